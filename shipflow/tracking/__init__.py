"""Tracking: carrier webhooks and polls in, one de-duplicated event history and status out."""
