"""Carrier webhooks: the account and the declared size are checked before the body is read."""

from __future__ import annotations

from shipflow.web.limits import WEBHOOK_MAX_BYTES
from tests.unread_body import MiB, post_unread


def test_an_unknown_account_is_refused_before_its_body_is_read(client):
    response, body = post_unread(client, "/webhooks/fake/no-such-account", 200 * MiB)
    assert response.status_code == 404 and not body.read_from
    assert response.mimetype == "application/problem+json"


def test_an_oversize_webhook_is_refused_before_its_body_is_read(client, tracked):
    url = tracked["tb"].webhook_url
    response, body = post_unread(client, url, WEBHOOK_MAX_BYTES + 1)
    assert response.status_code == 413 and not body.read_from
    assert response.mimetype == "application/problem+json"
    assert "smaller batches" in response.json["detail"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
