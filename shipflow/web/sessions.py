"""The signed session cookie (ops sign-in, CSRF tokens, language choice): its own key,
never readable by scripts, not sent on cross-site requests, and HTTPS-only wherever the
app is served over HTTPS."""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from shipflow.config import Settings


class SessionCookies(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._signing: tuple[tuple, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's, built again only when the keys change: Flask builds one for every request,
        which costs a cached widget answer a tenth of its time."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if self._signing is None or self._signing[0] != keys:
            self._signing = (keys, super().get_signing_serializer(app))
        return self._signing[1]

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured (an https base_url) or when this request came over HTTPS."""
        return super().get_cookie_secure(app) or request.is_secure


def init_app(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.signing_key("session"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
    )
    app.session_interface = SessionCookies()
