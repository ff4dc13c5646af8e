"""From a brand's configured carrier account to a ready adapter instance: the one place
adapters are built."""

from __future__ import annotations

import threading

from carriers.base import Carrier, CarrierAccount
from carriers.registry import get_carrier_class
from carriers.sandbox.carrier import SandboxBook
from shipflow.carrier_limits import CallLimiters, call_limiters
from shipflow.clock import Clock
from shipflow.config import Settings


class UnknownCarrierAccount(LookupError):
    pass


class CarrierFactory:
    """One adapter per brand's carrier account, on the runtime's clock (the sandbox network
    runs on it, so simulated time agrees), built on first use and kept: its HTTP session and
    OAuth token are the account's for the whole process, its rate limit (with Redis) the
    account's across every process (`shipflow.carrier_limits`)."""

    def __init__(
        self, settings: Settings, clock: Clock, sandbox_book: SandboxBook | None = None
    ) -> None:
        """`sandbox_book`: where sandbox accounts keep parcels' later history (the runtime
        gives the database's, so every process agrees); None: the process's own."""
        self.settings = settings
        self.clock = clock
        self.call_limiters: CallLimiters | None = call_limiters(settings)
        self.sandbox_book = sandbox_book
        self._adapters: dict[tuple[str, str], Carrier] = {}
        self._lock = threading.Lock()

    def account(self, brand_code: str, account_code: str) -> Carrier:
        """The adapter of one brand's carrier account."""
        key = (brand_code, account_code)
        with self._lock:
            if key not in self._adapters:
                self._adapters[key] = self._build(brand_code, account_code)
            return self._adapters[key]

    def _build(self, brand_code: str, account_code: str) -> Carrier:
        brand = self.settings.brand(brand_code)
        accounts = brand.carriers if brand else []
        account = next((a for a in accounts if a.code == account_code), None)
        if account is None:
            raise UnknownCarrierAccount(
                f"brand {brand_code!r} has no carrier account {account_code!r}"
            )
        carrier_account = CarrierAccount(
            carrier=account.carrier,
            account_id=account.code,
            credentials=dict(account.credentials),
            sandbox=account.sandbox,
            base_url=account.endpoint(self.settings.base_url),
        )
        if self.call_limiters is not None:
            carrier_account.call_limiter = self.call_limiters(
                brand_code, account_code, carrier_account.rate_limit_per_second
            )
        cls = get_carrier_class(account.carrier)
        if account.carrier == "sandbox" and self.sandbox_book is not None:
            return cls(carrier_account, clock=self.clock, book=self.sandbox_book)  # type: ignore[call-arg]
        return cls(carrier_account, clock=self.clock)

    def of_shipment(self, brand_code: str, carrier: str, account_code: str) -> Carrier:
        """A shipment's adapter: its own account, else the brand's first of that carrier."""
        brand = self.settings.brand(brand_code)
        accounts = [a.code for a in (brand.carriers if brand else []) if a.carrier == carrier]
        code = account_code if account_code in accounts else (accounts[0] if accounts else "")
        if not code:
            raise UnknownCarrierAccount(f"brand {brand_code!r} has no {carrier!r} account")
        return self.account(brand_code, code)

    def of_brand(self, brand_code: str) -> list[Carrier]:
        """Every carrier account of the brand (e.g. to shop for a return label)."""
        brand = self.settings.brand(brand_code)
        return [self.account(brand_code, a.code) for a in (brand.carriers if brand else [])]
