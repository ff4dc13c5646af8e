"""US addresses outside the fifty states that not every carrier delivers to.

Military post offices (APO/FPO/DPO: "states" AE, AA and AP with ZIP prefixes 090-098, 340 and
962-966, DMM 703.2.2.1 as revised in USPS Postal Bulletin 22414,
https://about.usps.com/postal-bulletin/2015/pb22414/html/updt_001.htm) take parcels through the
Postal Service only (USPS Publication 28, 225.1): UPS, FedEx and DHL do not deliver into the
military postal system. The territories (Puerto Rico, Guam, the U.S. Virgin Islands, American
Samoa, the Northern Mariana Islands) are domestic USPS destinations that the couriers serve
too. A quote or an allocation asks here, so no promise or label names a carrier that would
send the parcel back.
"""

from __future__ import annotations

import enum

TERRITORIES = frozenset({"PR", "GU", "VI", "AS", "MP"})


class Reach(enum.StrEnum):
    MILITARY = "military"  # APO/FPO/DPO
    TERRITORY = "territory"


# Who delivers to each kind of address; a carrier not listed delivers to neither.
CARRIERS_REACHING = {
    Reach.MILITARY: frozenset({"usps"}),
    Reach.TERRITORY: frozenset({"usps", "ups", "fedex", "dhl", "sandbox"}),
}


def reach_of(country: str, postal_code: str) -> Reach | None:
    """The kind of special address, by ISO country (territories have their own codes) or,
    for "US", by ZIP code; None for the fifty states and DC (and any other country)."""
    country = country.upper()
    if country in TERRITORIES:
        return Reach.TERRITORY
    zip5 = postal_code.strip()[:5]
    if country != "US" or len(zip5) != 5 or not zip5.isdigit():
        return None
    prefix = int(zip5[:3])
    if 90 <= prefix <= 98 or prefix == 340 or 962 <= prefix <= 966:
        return Reach.MILITARY
    if prefix in (6, 7, 8, 9, 969) or zip5 == "96799":  # PR, VI; GU and MP; AS
        return Reach.TERRITORY
    return None


def delivers_to(carrier: str, reach: Reach | None) -> bool:
    return reach is None or carrier in CARRIERS_REACHING[reach]
