"""The shop's fulfilment location chooses our warehouse where the account maps it
(`brands[].channels[].locations`); a location the table does not know is named on the
order, which is kept for ops and not allocated."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from shipflow.config import parse_settings
from shipflow.store.models import Alert, Order, Shipment
from tests.channels.conftest import brand_of, channel_config
from tests.channels.test_shop_orders import SANDBOX, order, send


@pytest.fixture
def settings(database_url):
    """tb ships from EWR (stocks the lantern) and EMPTY (stocks nothing): shop location 1
    is EWR, location 2 is EMPTY."""
    raw = channel_config(database_url)
    brand = brand_of(raw, "tb")
    brand["carriers"].append(dict(SANDBOX))
    empty = copy.deepcopy(brand["warehouses"][0])
    empty.update(code="EMPTY", stock={})
    brand["warehouses"].append(empty)
    brand["channels"][0]["locations"] = {"1": "EWR", "2": "EMPTY"}
    return parse_settings(raw, "test config", environ={})


def placed(runtime):
    with runtime.sessions() as session:
        found = session.scalars(select(Order)).one()
        shipments = session.scalars(select(Shipment)).all()
        alerts = session.scalars(select(Alert.title)).all()
        return found, shipments, alerts


def test_a_mapped_location_ships_from_its_warehouse(client, runtime, jobs, selling):
    send(client, selling["tb"], order(location_id=1), "orders/create")
    jobs.drain()

    found, shipments, alerts = placed(runtime)
    assert (found.source_details["warehouse"], found.attention, alerts) == ("EWR", [], [])
    assert len(shipments) == 1


def test_the_mapped_warehouse_is_the_only_one_allocation_may_use(client, runtime, jobs, selling):
    """EWR stocks the order, but the shop fulfils it from location 2 = EMPTY: no label."""
    send(client, selling["tb"], order(location_id=2), "orders/create")
    jobs.drain()

    found, shipments, _ = placed(runtime)
    assert found.source_details["warehouse"] == "EMPTY"
    assert shipments == []
    assert [a.split(":")[0] for a in found.attention] == ["allocation"]


def test_an_unmapped_location_is_named_and_the_order_kept(client, runtime, jobs, selling):
    send(client, selling["tb"], order(location_id=77), "orders/create")
    jobs.drain()

    found, shipments, alerts = placed(runtime)
    assert found.attention == ["location_id '77' has no warehouse"]
    assert shipments == []
    assert alerts == ["Shop order web-1001 needs attention: location_id '77' has no warehouse"]
