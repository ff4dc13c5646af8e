"""Which carrier adapters exist. A new carrier is one module plus one line here
(or an entry point in the `shipflow.carriers` group for carriers shipped as plugins)."""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from carriers.base import Carrier

BUILTIN = {
    "sandbox": "carriers.sandbox:SandboxCarrier",
    "ups": "carriers.ups:UPSCarrier",
    "fedex": "carriers.fedex:FedExCarrier",
    "usps": "carriers.usps:USPSCarrier",
    "dhl": "carriers.dhl:DHLCarrier",
    "easypost": "carriers.easypost:EasyPostCarrier",
    "sf": "carriers.sf:SFCarrier",
    "kuaidi100": "carriers.kuaidi100:Kuaidi100Carrier",
    "17track": "carriers.track17:Track17Carrier",
    "ecpay": "carriers.ecpay:ECPayCarrier",
    "delhivery": "carriers.delhivery:DelhiveryCarrier",
    "tapin": "carriers.tapin:TapinCarrier",
}


@cache
def _plugins() -> dict[str, str]:
    """Installed plugins do not change while the process runs: scan them once."""
    return {ep.name: ep.value for ep in entry_points(group="shipflow.carriers")}


def _targets() -> dict[str, str]:
    return {**BUILTIN, **_plugins()}


def available_carriers() -> list[str]:
    return sorted(_targets())


def get_carrier_class(name: str) -> type[Carrier]:
    try:
        target = _targets()[name]
    except KeyError:
        raise KeyError(
            f"unknown carrier {name!r}; known carriers: {', '.join(available_carriers())}"
        ) from None
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)
