"""Backoff for ops logins: after a few wrong passwords for one account, or from one client,
each further attempt waits twice as long (1 s, 2 s, 4 s ... 15 min). A waiting attempt is
refused with 429 before the password hash runs, so guessing costs the server nothing and
holds no thread; a successful login clears the account's failures (not the client's, or one
valid login would reset a guesser)."""

from __future__ import annotations

import math

from flask import request

from shipflow.web.ratelimit import Backoff, limiter

PER_ACCOUNT = Backoff("ops-login-account", free=3)
PER_CLIENT = Backoff("ops-login-client", free=10)  # an office behind one address: more room


def _account(brand_code: str, email: str) -> str:
    """Known or not, the same key: the backoff tells nothing about who has a login."""
    return f"{brand_code.strip()}:{email.strip().lower()}"


def seconds_to_wait(brand_code: str, email: str) -> int:
    wait = max(
        limiter().wait_s(PER_ACCOUNT, _account(brand_code, email)),
        limiter().wait_s(PER_CLIENT, request.remote_addr or ""),
    )
    return math.ceil(wait)


def record(brand_code: str, email: str, succeeded: bool) -> None:
    if succeeded:
        limiter().succeeded(PER_ACCOUNT, _account(brand_code, email))
        return
    limiter().failed(PER_ACCOUNT, _account(brand_code, email))
    limiter().failed(PER_CLIENT, request.remote_addr or "")
