"""SHOPLINE stores (the SHOPLINE Open Platform's Admin REST API and webhooks)."""

from channels.shopline.source import ShoplineOrderSource

__all__ = ["ShoplineOrderSource"]
