"""Shopify: orders in by signed webhooks and the GraphQL Admin API, fulfilments, tracking
events and refunds written back through it."""

from channels.shopify.source import ShopifyOrderSource

__all__ = ["ShopifyOrderSource"]
