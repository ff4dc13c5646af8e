"""Webhooks in: verified, stored raw, acknowledged; processed by the job runner; failures
kept for ops and retried after a fix."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from carriers.base import WebhookReply
from shipflow.cli import main
from shipflow.store.models import Shipment, TrackingEventRow
from shipflow.store.tracking_models import WebhookReceipt
from tests.tracking.fake_carrier import FakeCarrier, event, fake_config, payload
from tests.tracking.helpers import at, post_webhook


def count(runtime, model) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def api_headers(runtime, brand) -> dict[str, str]:
    from shipflow.api_keys import create_api_key
    from shipflow.store.db import unit_of_work

    with unit_of_work(runtime.sessions) as session:
        return {"Authorization": f"Bearer {create_api_key(session, brand.id, 'ops')}"}


def test_signed_webhook_is_stored_then_processed(
    client, runtime, jobs, tracked, make_shipment, clock
):
    shipment_id = make_shipment(tracked["tb"], "TN1")
    body = payload("TN1", event("PU", "in_transit", at(clock, -2)))

    response = post_webhook(client, tracked["tb"], body)

    assert response.status_code == 202
    with runtime.sessions() as session:
        receipt = session.get(WebhookReceipt, response.json["receipt_id"])
        assert (receipt.status, receipt.body, receipt.brand_id) == (
            "received",
            body,
            tracked["tb"].id,
        )
        assert receipt.headers["X-Fake-Signature"]
    assert count(runtime, TrackingEventRow) == 0  # acknowledged before processing

    assert jobs.drain() >= 1
    with runtime.sessions() as session:
        assert session.get(WebhookReceipt, receipt.id).status == "processed"
        assert session.get(Shipment, shipment_id).status == "in_transit"


@pytest.mark.parametrize("signature", ["", "0" * 64])
def test_bad_signature_is_401_and_stores_nothing(
    client, runtime, tracked, make_shipment, clock, signature
):
    make_shipment(tracked["tb"], "TN1")
    body = payload("TN1", event("PU", "in_transit", at(clock, -2)))

    response = post_webhook(client, tracked["tb"], body, signature=signature)

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert (count(runtime, WebhookReceipt), count(runtime, TrackingEventRow)) == (0, 0)


def test_unknown_or_mismatched_account_is_404(client, tracked, clock):
    body = payload("TN1")
    assert post_webhook(client, tracked["tb"], body).status_code == 202
    assert client.post("/webhooks/fake/cac_nope", data=body).status_code == 404
    assert client.post(f"/webhooks/ups/{tracked['tb'].account_id}", data=body).status_code == 404


def test_update_reaches_only_the_brand_the_webhook_is_for(
    client, runtime, jobs, tracked, make_shipment, clock
):
    mine = make_shipment(tracked["tb"], "SAME")
    theirs = make_shipment(tracked["tc"], "SAME")
    post_webhook(client, tracked["tb"], payload("SAME", event("PU", "in_transit", at(clock, -1))))
    jobs.drain()
    with runtime.sessions() as session:
        assert session.get(Shipment, mine).status == "in_transit"
        assert session.get(Shipment, theirs).status == "pending"


def test_malformed_payload_is_kept_failed_visible_and_retried_after_fix(
    client, runtime, jobs, tracked, make_shipment, clock, monkeypatch, runner
):
    shipment_id = make_shipment(tracked["tb"], "TN1")
    # This carrier build renamed "events" to "scans": the payload has no shape we can read.
    body = payload("TN1", event("PU", "in_transit", at(clock, -1))).replace(b'"events"', b'"scans"')
    receipt_id = post_webhook(client, tracked["tb"], body).json["receipt_id"]
    jobs.drain()

    ops = api_headers(runtime, tracked["tb"])
    failed = client.get("/api/v1/webhook-receipts?status=failed", headers=ops).json["data"]
    assert [r["id"] for r in failed] == [receipt_id]
    assert "events" in failed[0]["error"] and failed[0]["body"] == body.decode()
    other = api_headers(runtime, tracked["tc"])
    assert client.get("/api/v1/webhook-receipts?status=failed", headers=other).json["data"] == []
    assert (
        client.post(f"/api/v1/webhook-receipts/{receipt_id}/retry", headers=other).status_code
        == 404
    )
    assert count(runtime, TrackingEventRow) == 0

    # The fix: read the renamed field.
    original = FakeCarrier.parse_webhook

    def fixed(self, request):
        request = type(request)(request.headers, request.body.replace(b'"scans"', b'"events"'))
        return original(self, request)

    monkeypatch.setattr(FakeCarrier, "parse_webhook", fixed)
    response = client.post(f"/api/v1/webhook-receipts/{receipt_id}/retry", headers=ops)
    assert response.status_code == 202 and response.json["status"] == "received"
    jobs.drain()
    with runtime.sessions() as session:
        receipt = session.get(WebhookReceipt, receipt_id)
        assert (receipt.status, receipt.error) == ("processed", None)
        assert session.get(Shipment, shipment_id).status == "in_transit"
    again = client.post(f"/api/v1/webhook-receipts/{receipt_id}/retry", headers=ops)
    assert again.status_code == 409


def test_cli_retries_every_failed_webhook(
    client, runtime, jobs, tracked, runner, database_url, tmp_path
):
    for _ in range(2):
        post_webhook(client, tracked["tb"], b"not json")
    jobs.drain()
    assert count(runtime, WebhookReceipt) == 2

    config = tmp_path / "config.yaml"
    import yaml

    config.write_text(yaml.safe_dump(fake_config(database_url)))
    result = runner.invoke(main, ["--config", str(config), "webhooks", "retry", "--failed"])
    assert result.exit_code == 0, result.output
    assert "queued 2 failed webhook(s)" in result.output
    with runtime.sessions() as session:
        statuses = session.scalars(select(WebhookReceipt.status)).all()
    assert statuses == ["received", "received"]


def test_unknown_tracking_number_is_processed_with_a_note(client, runtime, jobs, tracked, clock):
    post_webhook(client, tracked["tb"], payload("NOPE", event("PU", "in_transit", at(clock, -1))))
    jobs.drain()
    with runtime.sessions() as session:
        receipt = session.scalars(select(WebhookReceipt)).one()
    assert receipt.status == "processed" and "NOPE" in receipt.error


def test_a_transient_failure_is_retried_with_backoff(
    client, runtime, jobs, tracked, make_shipment, clock, monkeypatch
):
    from datetime import timedelta

    from shipflow.tracking import webhooks

    make_shipment(tracked["tb"], "TN1")
    post_webhook(client, tracked["tb"], payload("TN1", event("PU", "in_transit", at(clock, -1))))

    def database_down(*args, **kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr(webhooks, "ingest_batch", database_down)
    jobs.drain()
    with runtime.sessions() as session:
        receipt = session.scalars(select(WebhookReceipt)).one()
    assert (receipt.status, receipt.attempts) == ("received", 1)
    assert receipt.available_at == clock.now() + timedelta(seconds=30)

    monkeypatch.undo()
    clock.advance(timedelta(seconds=31))
    jobs.drain()
    with runtime.sessions() as session:
        assert session.scalars(select(WebhookReceipt.status)).one() == "processed"


def test_cli_runs_the_jobs_once(
    client, runtime, tracked, make_shipment, clock, runner, database_url, tmp_path
):
    import yaml

    shipment_id = make_shipment(tracked["tb"], "TN1", next_poll_at=None)
    post_webhook(client, tracked["tb"], payload("TN1", event("PU", "in_transit", at(clock, -1))))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(fake_config(database_url)))

    result = runner.invoke(main, ["--config", str(config), "jobs", "run", "--once"])

    assert result.exit_code == 0, result.output
    with runtime.sessions() as session:
        assert session.get(Shipment, shipment_id).status == "in_transit"


def test_an_unreadable_event_is_skipped_noted_and_the_rest_applied(
    client, runtime, jobs, tracked, make_shipment, clock
):
    shipment_id = make_shipment(tracked["tb"], "TN1")
    bad = {"code": "XX", "status": "in_transit", "at": "yesterday at noon", "text": "??"}
    body = payload("TN1", event("PU", "in_transit", at(clock, -3)), bad)

    post_webhook(client, tracked["tb"], body)
    jobs.drain()

    with runtime.sessions() as session:
        receipt = session.scalars(select(WebhookReceipt)).one()
        assert receipt.status == "processed"
        assert "1 unreadable event(s) skipped" in receipt.error
        assert receipt.body == body  # the bad event is kept raw on the receipt
        assert session.get(Shipment, shipment_id).status == "in_transit"
    assert count(runtime, TrackingEventRow) == 1


def test_a_carrier_documented_reply_is_sent_once_the_webhook_is_stored(
    client, runtime, tracked, make_shipment, clock, monkeypatch
):
    """Kuaidi100, SF and 17TRACK resend unless they read their own success answer."""
    reply = WebhookReply(200, b'{"result":true,"returnCode":"200","message":"ok"}')
    monkeypatch.setattr(FakeCarrier, "webhook_reply", reply)
    make_shipment(tracked["tb"], "TN1")
    body = payload("TN1", event("PU", "in_transit", at(clock, -2)))

    response = post_webhook(client, tracked["tb"], body)

    assert (response.status_code, response.data) == (200, reply.body)
    assert response.content_type == "application/json"
    assert count(runtime, WebhookReceipt) == 1
    refused = post_webhook(client, tracked["tb"], body, signature="0" * 64)
    assert refused.status_code == 401  # the reply is never a refusal's
    assert count(runtime, WebhookReceipt) == 1
