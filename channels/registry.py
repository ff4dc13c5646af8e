"""Which order sources exist. A new channel is one package plus one line here (or an entry
point in the `shipflow.channels` group for channels shipped as plugins)."""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from channels.base import OrderSource

BUILTIN = {
    "sandbox": "channels.sandbox:SandboxOrderSource",
    "shopify": "channels.shopify:ShopifyOrderSource",
    "shopline": "channels.shopline:ShoplineOrderSource",
    "woocommerce": "channels.woocommerce:WooCommerceOrderSource",
}


@cache
def _plugins() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group="shipflow.channels")}


def _targets() -> dict[str, str]:
    return {**BUILTIN, **_plugins()}


def available_channels() -> list[str]:
    return sorted(_targets())


def get_source_class(name: str) -> type[OrderSource]:
    try:
        target = _targets()[name]
    except KeyError:
        raise KeyError(
            f"unknown channel {name!r}; known channels: {', '.join(available_channels())}"
        ) from None
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)
