"""Ops login backoff: per account and per client, on the runtime's clock, refused with 429
before the password hash runs, cleared by a successful login."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shipflow.web.ops import throttle
from tests.delays.conftest import login, ops  # noqa: F401  (a fixture)

FREE = throttle.PER_ACCOUNT.free


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """Counts password checks (each one is ~0.1 s of CPU)."""
    from shipflow import ops_users as users

    calls: list[str] = []
    real = users.check_password_hash

    def counted(pwhash: str, password: str) -> bool:
        calls.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(users, "check_password_hash", counted)
    return calls


def test_wrong_passwords_make_even_the_right_one_wait(client, ops, clock, hashes):  # noqa: F811
    answers = [login(client, ops["a"], password="wrong").status_code for _ in range(FREE + 1)]
    assert answers == [401] * (FREE + 1)
    refused = login(client, ops["a"])
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "Too many failed attempts" in refused.get_data(as_text=True)
    assert len(hashes) == FREE + 1  # the refused attempt ran no hash
    clock.advance(timedelta(seconds=1))
    assert login(client, ops["a"]).status_code == 302


def test_the_wait_doubles_and_success_clears_it(client, ops, clock):  # noqa: F811
    for _ in range(FREE):
        login(client, ops["a"], password="wrong")
    for wait in (1, 2, 4):
        assert login(client, ops["a"], password="wrong").status_code == 401
        assert login(client, ops["a"]).headers["Retry-After"] == str(wait)
        clock.advance(timedelta(seconds=wait))
    assert login(client, ops["a"]).status_code == 302
    assert login(client, ops["a"], password="wrong").status_code == 401
    assert login(client, ops["a"]).status_code == 302  # the earlier failures are forgotten


def test_one_client_guessing_many_accounts_waits_too(client, ops):  # noqa: F811
    for i in range(throttle.PER_CLIENT.free + 1):
        user = {"email": f"guess{i}@a.example"}  # unknown accounts count like known ones
        assert login(client, user, password="wrong").status_code == 401
    assert login(client, ops["a"]).status_code == 429
    other_client = client.application.test_client()
    other_client.environ_base["REMOTE_ADDR"] = "192.0.2.77"
    assert login(other_client, ops["a"]).status_code == 302
