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
