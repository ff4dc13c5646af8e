"""The sandbox shop: a simulated sales channel for tests and development, reached through
the same interface and signed webhooks as a real platform."""

from channels.sandbox.shop import DEFAULT_NETWORK, SandboxShop, ShopNetwork
from channels.sandbox.source import SandboxOrderSource

__all__ = ["DEFAULT_NETWORK", "SandboxOrderSource", "SandboxShop", "ShopNetwork"]
