"""Ops sessions end for real: a cookie copied before sign-out or before a new password no
longer signs anyone in, and the session cookie is HttpOnly, SameSite and, over HTTPS, Secure."""

from __future__ import annotations

from shipflow.cli import main
from shipflow.runtime import Runtime
from shipflow.web import create_app
from tests.delays.conftest import login, post_form  # ops: a fixture of this folder


def _session_cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def _signed_in(client) -> bool:
    return client.get("/ops/alerts").status_code == 200


def test_a_cookie_copied_before_sign_out_no_longer_signs_in(client, ops):  # noqa: F811
    login(client, ops["a"])
    assert _signed_in(client)
    copied = client.get_cookie("session").value
    assert post_form(client, "/ops/logout").status_code == 302
    client.set_cookie("session", copied)
    response = client.get("/ops/alerts")
    assert response.status_code == 302 and response.headers["Location"].startswith("/ops/login")
    login(client, ops["a"])  # signing in again works, with a new cookie
    assert _signed_in(client)


def test_a_new_password_ends_the_sessions_before_it(client, ops, runner, runtime):  # noqa: F811
    login(client, ops["a"])
    assert _signed_in(client)
    args = ["ops-user", "reset-password", "--brand", "brand-a", "--email", ops["a"]["email"]]
    env = {"SHIPFLOW_DATABASE_URL": runtime.settings.database_url}
    result = runner.invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    assert not _signed_in(client)
    assert login(client, ops["a"]).status_code == 401  # the old password
    assert login(client, ops["a"], password=password).status_code == 302
    assert _signed_in(client)
    unknown = runner.invoke(main, [*args[:-1], "nobody@a.example"], env=env)
    assert unknown.exit_code == 2 and "has no login" in unknown.output


def test_the_session_cookie_is_httponly_samesite_and_secure_over_https(
    client,
    ops,  # noqa: F811
    app,
    runtime,
    clock,
):
    cookie = _session_cookie(login(client, ops["a"]))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    over_https = app.test_client().get("/ops/login", base_url="https://localhost")
    assert "Secure" in _session_cookie(over_https)

    public = runtime.settings.model_copy(update={"base_url": "https://track.example"})
    behind_tls_proxy = Runtime.from_settings(public, clock)
    response = create_app(behind_tls_proxy).test_client().get("/ops/login")
    assert "Secure" in _session_cookie(response)
    behind_tls_proxy.engine.dispose()


def test_a_trusted_proxy_tells_the_request_came_over_https(runtime, clock):
    """Behind `web.trusted_proxies`, the nearest proxy's `X-Forwarded-Proto` is believed (the
    session cookie is then `Secure`); without a trusted proxy anyone could send it."""
    over_tls = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    for proxies, secure in ((0, False), (1, True)):
        web = runtime.settings.web.model_copy(update={"trusted_proxies": proxies})
        behind = Runtime.from_settings(runtime.settings.model_copy(update={"web": web}), clock)
        response = create_app(behind).test_client().get("/ops/login", headers=over_tls)
        assert ("Secure" in _session_cookie(response)) is secure
        behind.engine.dispose()
