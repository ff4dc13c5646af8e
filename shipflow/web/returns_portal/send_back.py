"""The ways back a brand's ECPay account offers the returns portal: a drop-off at any store of
each chain whose B2C store service the account has (ECPay's ReturnUniMartCVS, ReturnCVS and
ReturnHiLifeCVS give a return code every store of that chain takes), and a T-cat pickup at
the customer's door (ReturnHome) where it has T-cat. A brand without ECPay gets none and its
portal buys the cheapest label at once, as before."""

from __future__ import annotations

from dataclasses import dataclass

from carriers.ecpay import ECPayCarrier
from carriers.ecpay.units import NETWORKS, RETURN_PATHS, SERVICES
from shipflow.config import Settings


@dataclass(frozen=True, slots=True)
class Way:
    account: str  # the brand's carrier account code
    service: str  # our service name: "unimart", "fami", "hilife", "tcat"
    chain: str  # the store chain ("7-ELEVEN", ...); empty for a pickup at home


def ways(settings: Settings, brand_code: str) -> list[Way]:
    """One way per chain (the first service of it), then the home pickup, in config order."""
    brand = settings.brand(brand_code)
    found: dict[str, Way] = {}
    for account in brand.carriers if brand else []:
        if account.carrier != ECPayCarrier.name:
            continue
        for service in account.services:
            sub = SERVICES.get(service.code.lower(), ("", ""))[1]
            if sub in RETURN_PATHS:
                way = Way(account.code, service.code.lower(), NETWORKS.get(sub, ""))
                found.setdefault(way.chain or "home", way)
    return list(found.values())


def way_for_store(offered: list[Way], store_chain: str) -> Way | None:
    """The drop-off way of the chain a store chosen on the map belongs to (its
    LogisticsSubType, B2C or C2C); None for a chain the brand takes no returns at."""
    chain = NETWORKS.get(store_chain.upper())
    return next((w for w in offered if chain and w.chain == chain), None)


def home_way(offered: list[Way]) -> Way | None:
    return next((w for w in offered if not w.chain), None)
