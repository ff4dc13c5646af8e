"""From a brand's configured carrier account to a ready adapter instance."""

from __future__ import annotations

import inspect

from carriers.base import Carrier, CarrierAccount
from carriers.registry import get_carrier_class
from shipflow.clock import Clock
from shipflow.config import Settings


class UnknownCarrierAccount(LookupError):
    pass


def carrier_for(
    settings: Settings, brand_code: str, account_code: str, clock: Clock | None = None
) -> Carrier:
    """The adapter of one brand's carrier account, on the given clock."""
    brand = settings.brand(brand_code)
    account = next((a for a in brand.carriers if a.code == account_code), None) if brand else None
    if account is None:
        raise UnknownCarrierAccount(f"brand {brand_code!r} has no carrier account {account_code!r}")
    cls = get_carrier_class(account.carrier)
    return cls(
        CarrierAccount(
            carrier=account.carrier,
            account_id=account.code,
            credentials=dict(account.credentials),
            sandbox=account.sandbox,
        ),
        clock=clock,
    )


def _build(settings: Settings, brand_code: str, account_code: str, clock: Clock | None) -> Carrier:
    brand = settings.brand(brand_code)
    account = next(a for a in brand.carriers if a.code == account_code)
    accepts_clock = "clock" in inspect.signature(get_carrier_class(account.carrier)).parameters
    extra = {"clock": clock} if clock is not None and accepts_clock else {}
    return carrier_for(settings, brand_code, account_code, **extra)


def carrier_of_shipment(
    settings: Settings, brand_code: str, carrier: str, account_code: str, clock: Clock | None = None
) -> Carrier:
    """A shipment's adapter: its own account, else the brand's first account of that carrier.
    Adapters that run on a clock (the sandbox) get the runtime's, so simulated time agrees."""
    brand = settings.brand(brand_code)
    accounts = [a.code for a in (brand.carriers if brand else []) if a.carrier == carrier]
    code = account_code if account_code in accounts else (accounts[0] if accounts else "")
    if not code:
        raise UnknownCarrierAccount(f"brand {brand_code!r} has no {carrier!r} account")
    return _build(settings, brand_code, code, clock)


def brand_carriers(
    settings: Settings, brand_code: str, clock: Clock | None = None
) -> list[Carrier]:
    """Every carrier account of the brand, as adapters (e.g. to shop for a return label)."""
    brand = settings.brand(brand_code)
    return [_build(settings, brand_code, a.code, clock) for a in (brand.carriers if brand else [])]
