"""Cash on delivery and pickup points in allocation: only carriers that can collect the money
or deliver to a store are picked, whatever the brand's rules say."""

from __future__ import annotations

from dataclasses import replace

import pytest

from carriers.base import Capability
from shipflow.allocation.rules import BrandRules
from shipflow.allocation.scoring import Pricer
from shipflow.allocation.service import allocate
from shipflow.domain import CarrierService, ServiceLevel
from tests.allocation.factories import FEDEX, RATE_CARDS, UPS, card, context, option, order

COLLECTS = replace(UPS, capabilities=frozenset({Capability.CASH_ON_DELIVERY}))
HOME_BY_POINT_CARRIER = replace(UPS, capabilities=frozenset({Capability.PICKUP_POINT_DELIVERY}))
TO_STORES = CarrierService(
    "ups",
    "access_point",
    ServiceLevel.PICKUP_POINT,
    capabilities=frozenset({Capability.PICKUP_POINT_DELIVERY}),
)
COD = {"cash_on_delivery_cents": 5000}
TO_A_STORE = {"level": ServiceLevel.PICKUP_POINT}
STORE = frozenset({Capability.PICKUP_POINT_DELIVERY})
# ECPay's B2C store services, with the chains their adapter names (ECPayCarrier.pickup_chains).
SEVEN_ELEVEN = CarrierService(
    "ecpay",
    "unimart",
    ServiceLevel.PICKUP_POINT,
    capabilities=STORE,
    pickup_chains=frozenset({"UNIMART", "UNIMARTC2C", "UNIMARTFREEZE"}),
)
FAMILYMART = replace(SEVEN_ELEVEN, service="fami", pickup_chains=frozenset({"FAMI", "FAMIC2C"}))
HI_LIFE = replace(SEVEN_ELEVEN, service="hilife", pickup_chains=frozenset({"HILIFE", "HILIFEC2C"}))

CASES = [
    # (service, its rules, order kwargs, expected rule or None, reason)
    (COLLECTS, {}, COD, None, ""),
    (COLLECTS, {"cash_on_delivery": False}, COD, "cash_on_delivery", "cash on delivery not offered"),
    (UPS, {}, COD, "cash_on_delivery", "carrier does not collect cash on delivery"),
    (UPS, {"cash_on_delivery": True}, COD, "cash_on_delivery", "carrier does not collect cash on delivery"),
    (UPS, {}, {}, None, ""),
    (TO_STORES, {}, TO_A_STORE, None, ""),
    (UPS, {}, TO_A_STORE, "pickup_point", "carrier does not deliver to pickup points"),
    (HOME_BY_POINT_CARRIER, {}, TO_A_STORE, "pickup_point", "delivers to the address"),
    (TO_STORES, {}, {}, "pickup_point", "delivers to a pickup point"),
    (SEVEN_ELEVEN, {}, {**TO_A_STORE, "pickup_chain": "UNIMART"}, None, ""),
    (SEVEN_ELEVEN, {}, {**TO_A_STORE, "pickup_chain": "UNIMARTC2C"}, None, ""),  # same stores
    (SEVEN_ELEVEN, {}, {**TO_A_STORE, "pickup_chain": "FAMI"}, "pickup_point",
     "delivers to UNIMART/UNIMARTC2C/UNIMARTFREEZE stores, not FAMI"),
    (SEVEN_ELEVEN, {}, TO_A_STORE, "pickup_point",
     "delivers to UNIMART/UNIMARTC2C/UNIMARTFREEZE stores, not a store of no named chain"),
    (TO_STORES, {}, {**TO_A_STORE, "pickup_chain": "FAMI"}, None, ""),  # names no chains: any
]  # fmt: skip


@pytest.mark.parametrize(("service", "service_rules", "order_kwargs", "rule", "reason"), CASES)
def test_capability_checks(service, service_rules, order_kwargs, rule, reason):
    rules = BrandRules.from_dict({"services": {service.key: service_rules}})
    rejection = rules.check(order(**order_kwargs), option(service))
    if rule is None:
        assert rejection is None
    else:
        assert rejection is not None
        assert (rejection.rule, rejection.reason) == (rule, reason)


def test_a_cod_order_goes_to_the_only_carrier_that_collects():
    decision = allocate(
        order(**COD), [UPS, FEDEX, replace(FEDEX, capabilities=COLLECTS.capabilities)], context()
    )
    assert decision.chosen is not None and decision.chosen.option == "fedex:ground@EWR"
    assert {r.rule for r in decision.rejected} == {"cash_on_delivery"}


def test_an_order_with_a_pickup_point_goes_to_a_pickup_service_only():
    cards = {**RATE_CARDS, TO_STORES.key: card(600, 900)}
    decision = allocate(
        order(**TO_A_STORE), [UPS, FEDEX, TO_STORES], replace(context(), pricer=Pricer(cards))
    )
    assert decision.chosen is not None and decision.chosen.option == "ups:access_point@EWR"
    assert len(decision.rejected) == 2


@pytest.mark.parametrize(
    ("chain", "chosen"),
    [
        ("UNIMART", "ecpay:unimart@EWR"),
        ("FAMI", "ecpay:fami@EWR"),
        ("FAMIC2C", "ecpay:fami@EWR"),  # a FamilyMart store, whichever map it came from
        ("HILIFE", "ecpay:hilife@EWR"),
        ("OKMARTC2C", None),
    ],
)
def test_a_store_goes_out_only_with_its_own_chains_service(chain, chosen):
    """The cheapest store service is 7-ELEVEN's, yet a FamilyMart store never goes with it."""
    services = [SEVEN_ELEVEN, FAMILYMART, HI_LIFE]
    prices = [card(500, 500), card(600, 600), card(700, 700)]
    cards = {**RATE_CARDS, **{s.key: p for s, p in zip(services, prices, strict=True)}}
    decision = allocate(
        order(**TO_A_STORE, pickup_chain=chain), services, replace(context(), pricer=Pricer(cards))
    )
    assert (decision.chosen.option if decision.chosen else None) == chosen
