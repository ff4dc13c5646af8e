"""From a brand's configured carrier account to a ready adapter instance."""

from __future__ import annotations

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
