"""Request bodies have a size limit per route, refused from Content-Length alone (413)
before a byte is read; CSRF and API keys are checked before a body is parsed."""

from __future__ import annotations

import re

import pytest

from shipflow.web.limits import DEFAULT_MAX_BYTES, MAX_BYTES
from tests.unread_body import MiB, post_unread


def test_api_refuses_an_oversize_body_unread_with_problem_json(client, brands):
    limit = MAX_BYTES["api"]
    response, body = post_unread(
        client,
        "/api/v1/allocation-batches",
        limit + 1,
        content_type="application/json",
        headers=brands["a"]["headers"],
    )
    assert response.status_code == 413 and not body.read_from
    assert response.mimetype == "application/problem+json"
    assert f"larger than the {limit} bytes" in response.json["detail"]


def test_api_checks_the_key_before_the_body(client):
    response, body = post_unread(
        client, "/api/v1/allocation-batches", 4 * MiB, content_type="application/json"
    )
    assert response.status_code == 401 and not body.read_from


def _csrf(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_customer_forms_take_the_default_limit(client):
    _csrf(client, "/t/northwind")
    response, body = post_unread(
        client,
        "/t/northwind",
        DEFAULT_MAX_BYTES + 1,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413 and not body.read_from


def test_an_upload_without_a_session_token_is_refused_unparsed(client):
    response, body = post_unread(
        client,
        "/returns/northwind/request",
        20 * MiB,
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 400 and not body.read_from
    assert "This form has expired" in response.get_data(as_text=True)


def test_return_photos_have_their_own_larger_limit(client):
    _csrf(client, "/returns/northwind")
    path, kind = "/returns/northwind/request", "multipart/form-data; boundary=x"
    response, body = post_unread(
        client, path, MAX_BYTES["returns_portal.submit"] + 1, content_type=kind
    )
    assert response.status_code == 413 and not body.read_from
    assert "These photos are too large" in response.get_data(as_text=True)
    with pytest.raises(AssertionError, match="body was read"):  # within its limit: read
        post_unread(client, path, 20 * MiB, content_type=kind)
