"""WooCommerce stores through the REST API v3 and its webhooks."""

from channels.woocommerce.source import WooCommerceOrderSource

__all__ = ["WooCommerceOrderSource"]
