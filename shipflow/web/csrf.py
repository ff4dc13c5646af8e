"""CSRF protection for the customer pages' forms: a random token kept in the signed session
cookie and echoed in each form; a POST without the matching token is refused."""

from __future__ import annotations

import secrets

from flask import abort, request, session

from shipflow.signatures import same_secret
from shipflow.web.inputs import refuse_nul_in_form

FIELD = "csrf_token"


def csrf_token() -> str:
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(24)
    return session[FIELD]


def check_csrf() -> None:
    """Without a token in the session the body is not even parsed (it may be a large upload);
    a genuine form's fields are then checked for NUL bytes."""
    expected = session.get(FIELD)
    if not expected or not same_secret(request.form.get(FIELD, ""), str(expected)):
        abort(400, "This form has expired. Reload the page and try again.")
    refuse_nul_in_form()
