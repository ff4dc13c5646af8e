"""Shop receipts are processed in batches: one transaction, the receipts decided together in
one savepoint (their deliveries noted, orders and lines inserted, one statement a table),
redone each in a savepoint of its own when that fails; the orders they name read in one
query and what a transaction cannot change (the brand, its rules, its latest model) read
once, however many orders the batch holds. Every order is decided first; the batch's label
purchases are then recorded pending together, in one committed transaction, before the
carrier is called for any of them."""

from __future__ import annotations

import logging
import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from carriers.base import CarrierRejected
from shipflow import channel_orders
from shipflow.store.label_models import LabelPurchase
from shipflow.store.models import ChannelDelivery, Order
from shipflow.store.tracking_models import WebhookReceipt
from shipflow.tracking.webhooks import process_due_receipts
from tests.channels.test_shop_orders import order, send, settings, state
from tests.statements import statements_sent

__all__ = ["settings"]  # tb's shop ships paid orders with the sandbox carrier


def tables_read(runtime, work) -> Counter[str]:
    """How many SELECTs `work()` sent, by the table each reads first (`EXTRACT(epoch FROM
    orders.placed_at)` names a column, not a table read)."""
    with statements_sent(runtime.engine) as sent:
        work()
    first = (re.match(r"\s*SELECT\b.*?\bFROM\s+(\w+)(?![.\w])", s, re.DOTALL) for s in sent)
    return Counter(table.group(1) for table in first if table)


def statements_by_start(runtime, work) -> Counter[str]:
    """How many statements `work()` sent, by their first words (an INSERT by its table)."""
    with statements_sent(runtime.engine) as sent:
        work()
    return Counter(" ".join(re.sub(r"\s+", " ", s).strip().split(" ")[:3]) for s in sent)


def shop_orders(brand, count: int, client) -> None:
    for n in range(count):
        raw = order(id=str(6000 + n), name=f"#{2000 + n}")
        send(client, brand, raw, "orders/paid")


@pytest.mark.postgres
def test_a_batch_reads_its_orders_brand_rules_and_model_once(client, runtime, selling):
    shop_orders(selling["tb"], 6, client)

    read = tables_read(runtime, lambda: process_due_receipts(runtime, limit=100))

    orders, shipments, alerts = state(runtime)
    assert (len(orders), len(shipments), alerts) == (6, 6, [])
    for table in ("orders", "allocation_rules", "transit_models", "brands"):
        assert read[table] <= 1, (table, read)
    assert read["webhook_receipts"] == 1


def test_create_paid_and_a_replay_of_one_order_in_one_batch_give_one_label(
    client, runtime, selling
):
    brand = selling["tb"]
    send(client, brand, order(financial_status="pending"), "orders/create")
    headers, body = send(client, brand, order("2026-11-24T09:20:00-05:00"), "orders/paid")
    assert client.post(brand.webhook_url, data=body, headers=headers).status_code == 202

    assert process_due_receipts(runtime, limit=100) == 3

    orders, shipments, _ = state(runtime)
    assert [(o.source_order_id, o.paid) for o in orders] == [("5001", True)]
    assert [s.order_id for s in shipments] == [orders[0].id]
    with runtime.sessions() as session:
        receipts = session.execute(
            select(WebhookReceipt.status, WebhookReceipt.error).order_by(WebhookReceipt.id)
        ).all()
    delivery = headers["X-Sandbox-Shop-Webhook-Id"]
    assert receipts == [
        ("processed", None),
        ("processed", None),
        ("processed", f"delivery {delivery} was already acted on"),
    ]


def test_a_failing_receipt_is_rolled_back_alone_and_the_batch_goes_on(client, runtime, selling):
    """Two shop orders under one order number: the second cannot be stored."""
    brand = selling["tb"]
    send(client, brand, order(id="5001"), "orders/paid")
    send(client, brand, order(id="5002"), "orders/paid")
    send(client, brand, order(id="5003", name="#1003"), "orders/paid")

    assert process_due_receipts(runtime, limit=100) == 3

    orders, shipments, _ = state(runtime)
    assert sorted(o.source_order_id for o in orders) == ["5001", "5003"]
    assert len(shipments) == 2
    with runtime.sessions() as session:
        statuses = session.scalars(select(WebhookReceipt.status).order_by(WebhookReceipt.id))
        assert list(statuses) == ["processed", "failed", "processed"]


def test_a_batch_of_new_orders_is_inserted_one_statement_a_table_in_one_savepoint(
    client, runtime, selling, database_url
):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLAlchemy inserts rows with generated integer ids one by one on SQLite")
    shop_orders(selling["tb"], 4, client)

    sent = statements_by_start(runtime, lambda: process_due_receipts(runtime, limit=100))

    orders, shipments, _ = state(runtime)
    assert (len(orders), len(shipments)) == (4, 4)
    assert sent["INSERT INTO channel_deliveries"] == 1
    assert sent["INSERT INTO orders"] == 1
    assert sent["INSERT INTO order_lines"] == 1
    assert sum(n for words, n in sent.items() if words.startswith("SAVEPOINT")) == 1


def test_a_receipt_failing_its_batch_is_redone_alone_and_the_others_processed(
    client, runtime, selling, monkeypatch, caplog
):
    """An unexpected error in one order: the batch is undone, then redone receipt by receipt;
    the failing receipt is kept for a retry with its error, its delivery not noted."""
    shop_orders(selling["tb"], 3, client)
    details = channel_orders._details

    def breaking(shop, inbound):
        if inbound.order_number == "#2001":
            raise RuntimeError("mapping broke")
        return details(shop, inbound)

    monkeypatch.setattr(channel_orders, "_details", breaking)
    with caplog.at_level(logging.WARNING, logger="shipflow.channel_orders"):
        assert process_due_receipts(runtime, limit=100) == 3

    assert "failed together; each alone" in caplog.text
    orders, shipments, _ = state(runtime)
    assert sorted(o.order_number for o in orders) == ["web-2000", "web-2002"]
    assert sorted(s.order_id for s in shipments) == sorted(o.id for o in orders)
    with runtime.sessions() as session:
        receipts = session.execute(
            select(WebhookReceipt.status, WebhookReceipt.error).order_by(WebhookReceipt.id)
        ).all()
        noted = session.scalar(select(func.count()).select_from(ChannelDelivery))
    assert receipts == [
        ("processed", None),
        ("received", "RuntimeError: mapping broke"),
        ("processed", None),
    ]
    assert noted == 2


def sandbox_of(runtime):
    return runtime.fulfilment("tb").carriers["sandbox-main"]


@pytest.mark.postgres
def test_the_batch_purchases_are_committed_pending_before_the_first_carrier_call(
    client, runtime, selling, monkeypatch
):
    shop_orders(selling["tb"], 3, client)
    carrier = sandbox_of(runtime)
    sell, seen = carrier.create_label, []

    def create_label(request):
        with runtime.sessions() as elsewhere:  # another connection: only what is committed
            seen.append(
                elsewhere.execute(select(LabelPurchase.order_id, LabelPurchase.status)).all()
            )
        return sell(request)

    monkeypatch.setattr(carrier, "create_label", create_label)
    process_due_receipts(runtime, limit=100)

    orders, shipments, _ = state(runtime)
    assert len(orders) == 3 and len(shipments) == 3
    assert sorted(status for _, status in seen[0]) == ["pending", "pending", "pending"]
    assert {order_id for order_id, _ in seen[0]} == {o.id for o in orders}
    with runtime.sessions() as session:
        statuses = session.scalars(select(LabelPurchase.status)).all()
    assert statuses == ["bought", "bought", "bought"]


@pytest.mark.postgres
def test_a_label_refused_in_a_batch_leaves_its_order_needing_attention_and_ships_the_rest(
    client, runtime, selling, monkeypatch
):
    shop_orders(selling["tb"], 3, client)
    carrier = sandbox_of(runtime)
    sell = carrier.create_label

    def create_label(request):
        if request.reference == "web-2001":
            raise CarrierRejected("address not served", carrier="sandbox", carrier_code="ADDRESS")
        return sell(request)

    monkeypatch.setattr(carrier, "create_label", create_label)
    assert process_due_receipts(runtime, limit=100) == 3

    orders, shipments, alerts = state(runtime)
    refused = next(o for o in orders if o.order_number == "web-2001")
    assert refused.attention == ["allocation: address not served"]
    assert sorted(s.order_id for s in shipments) == sorted(o.id for o in orders if o is not refused)
    assert alerts == ["Shop order web-2001 could not be allocated: address not served"]
    with runtime.sessions() as session:
        purchases = session.execute(
            select(Order.order_number, LabelPurchase.status, LabelPurchase.error)
            .join(Order, Order.id == LabelPurchase.order_id)
            .order_by(Order.order_number)
        ).all()
        notes = session.scalars(select(WebhookReceipt.error).order_by(WebhookReceipt.id)).all()
    assert purchases == [
        ("web-2000", "bought", None),
        ("web-2001", "failed", "CarrierRejected: address not served"),
        ("web-2002", "bought", None),
    ]
    assert notes == [None, "not allocated: ops alerted", None]
