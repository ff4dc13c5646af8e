"""A tracking-only account (17TRACK, Kuaidi100) may list services in its config, but it makes
no labels: allocation never offers, let alone picks, one of them."""

from __future__ import annotations

from dataclasses import replace

from carriers.base import CarrierAccount
from carriers.kuaidi100 import Kuaidi100Carrier
from carriers.track17 import Track17Carrier
from shipflow.domain import CarrierService, ServiceLevel
from tests.allocation.test_api import northwind, order  # noqa: F401 (fixture)

TRACKING_ONLY = (
    CarrierService("17track", "ground", ServiceLevel.STANDARD, account="long-tail"),
    CarrierService("kuaidi100", "ground", ServiceLevel.STANDARD, account="mainland"),
)


def with_tracking_only_accounts(runtime):
    fulfilment = runtime.fulfilment("northwind")
    fulfilment.setup = replace(fulfilment.setup, services=fulfilment.setup.services + TRACKING_ONLY)
    fulfilment.carriers["long-tail"] = Track17Carrier(
        CarrierAccount("17track", "long-tail", {"api_key": "k"})
    )
    fulfilment.carriers["mainland"] = Kuaidi100Carrier(
        CarrierAccount("kuaidi100", "mainland", {"key": "k", "customer": "c"})
    )
    return fulfilment


def test_label_services_leave_tracking_only_accounts_out(runtime):
    fulfilment = with_tracking_only_accounts(runtime)
    assert {s.carrier for s in fulfilment.setup.services} == {"sandbox", "17track", "kuaidi100"}
    assert {s.carrier for s in fulfilment.label_services} == {"sandbox"}


def test_allocation_ranks_no_tracking_only_service(runtime, client, northwind):  # noqa: F811
    with_tracking_only_accounts(runtime)
    order_id = order(client, northwind, "T1")
    response = client.post("/api/v1/allocations", json={"order_id": order_id}, headers=northwind)
    assert response.status_code == 200, response.json
    assert response.json["chosen"]["carrier"] == "sandbox"
    assert {s["carrier"] for s in response.json["ranked"]} == {"sandbox"}
