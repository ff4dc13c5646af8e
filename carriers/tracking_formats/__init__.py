"""Tracking-number formats from jkeen/tracking_number_data (MIT, see LICENSE here), trimmed to
what `carriers.detect` reads: regexes, check-digit parameters and the lookups validation needs."""
