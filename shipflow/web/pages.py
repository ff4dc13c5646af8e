"""What every customer-facing page shares: the brand from the URL, its language and theme,
and the base template's helpers."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, abort, g, render_template, request
from werkzeug.exceptions import HTTPException

from shipflow.config import BrandConfig
from shipflow.web import i18n
from shipflow.web.csrf import csrf_token
from shipflow.web.theme import Theme


def N_(message: str) -> str:  # noqa: N802  (the gettext convention: marked, translated later)
    return message


LINK_LABELS = {
    "shop": N_("Shop"),
    "help": N_("Help"),
    "contact": N_("Contact us"),
    "returns": N_("Returns policy"),
    "privacy": N_("Privacy"),
}


def use_brand(brand_code: str) -> BrandConfig:
    """The configured brand of the URL (404 if none), and the visitor's language for it."""
    brand = g.runtime.settings.brand(brand_code)
    if brand is None:
        abort(404)
    g.brand = brand
    i18n.use_language(brand.languages)
    return brand


def render_page(template: str, status: int = 200, **context):
    body = render_template(template, brand=g.brand, theme=Theme(g.brand.theme), **context)
    return body, status


def message_page(status: int, heading: str, *paragraphs: str, action=None):
    """A plain page that says what happened and what to do; it shows no shipment data."""
    url, label = action or (None, None)
    return render_page(
        "message.html",
        status,
        heading=heading,
        paragraphs=paragraphs,
        action_url=url,
        action_label=label,
    )


def private(response_and_status):
    """A page about one customer's parcel or order: neither cached nor sent on as a referrer."""
    body, status = response_and_status
    return body, status, {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


def private_error_page(error: HTTPException, pages: dict[int, tuple[str, str]] | None = None):
    """The branded, private page for an HTTP error (`pages` adds code -> heading, advice);
    before a brand is known, Flask's own."""
    if "brand" not in g:
        return error
    if error.code == 400:
        advice = i18n.gettext("Please go back, reload the page and try again.")
        return private(message_page(400, i18n.gettext("This form has expired"), advice))
    pages = pages or {}
    if error.code in pages:
        return private(message_page(error.code, *pages[error.code]))
    return private(message_page(error.code or 500, i18n.gettext("Something went wrong")))


def language_url(language: str) -> str:
    args = request.args.to_dict()
    args["lang"] = language
    return f"{request.path}?{urlencode(args)}"


def link_label(key: str) -> str:
    label = LINK_LABELS.get(key)
    return i18n.gettext(label) if label else key.replace("_", " ").capitalize()


def init_app(app: Flask) -> None:
    i18n.init_app(app)
    app.jinja_env.globals.update(
        language_url=language_url, link_label=link_label, csrf_token=csrf_token
    )
