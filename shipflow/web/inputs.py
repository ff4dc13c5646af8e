"""Request input that the framework lets through but the database or Python cannot take:
refused here as a 4xx, before it reaches a handler, instead of ending as a 500.

- NUL bytes: PostgreSQL text cannot hold them (the driver raises), so a query string, form
  field or path segment with one is refused before any handler touches the database.
- Digits: `str.isdigit()` accepts "²" and "٣", which `int()` then refuses or reads; form
  numbers go through `ascii_int`.
- Deeply nested JSON: the parser raises RecursionError, which Flask does not catch.
"""

from __future__ import annotations

import re

from flask import request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, NotFound

ASCII_INT = re.compile(r"[0-9]{1,9}")


def ascii_int(text: str) -> int | None:
    """The number written in ASCII digits (at most nine), or None."""
    text = text.strip()
    return int(text) if ASCII_INT.fullmatch(text) else None


def refuse_nul_bytes() -> None:
    """A `before_request` hook: 404 for a NUL byte in the path, 400 in the query string. Form
    fields wait for `refuse_nul_in_form`, after the CSRF check: reading them here would parse
    a body that the route's size limit and the CSRF check must refuse unread."""
    if any("\x00" in str(value) for value in (request.view_args or {}).values()):
        raise NotFound()
    _refuse_nul(request.args)


def refuse_nul_in_form() -> None:
    """400 for a NUL byte in a form field (called once a form is known to be genuine)."""
    _refuse_nul(request.form)


def _refuse_nul(fields: MultiDict) -> None:
    for name, value in fields.items(multi=True):
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "")
            raise BadRequest(f"{field}: contains a NUL byte; send the text without it.")


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with a body nested past Python's recursion limit refused as a 400."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise BadRequest("The JSON body is nested too deeply.") from None
