"""Routes of the EDD widget. The JSON is public (a product, cart or checkout page calls it
from the shopper's browser), so it takes only what such a page knows and answers only
delivery dates and the brand's shipping prices."""

from __future__ import annotations

import re
from pathlib import Path
from time import monotonic

from flask import Blueprint, current_app, g, jsonify, request, send_from_directory
from werkzeug.datastructures import MultiDict

from shipflow.channel_accounts import shop_origins
from shipflow.config import BrandConfig
from shipflow.domain import ServiceLevel
from shipflow.postal.countries import validate_country
from shipflow.web.i18n import normalize
from shipflow.web.problems import ApiProblem, field_problem
from shipflow.web.widget.presenter import estimate_for_widget

bp = Blueprint("widget", __name__)
STATIC = Path(__file__).resolve().parent / "static"
POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,14}$")
LINE = re.compile(r"^([^:,\s]{1,64}):([1-9][0-9]{0,2})$")
MAX_LINES = 50
MAX_AGE = 60
SHOP_ORIGINS_SECONDS = 30.0  # a connected shop's origin is let in on this old a read
NEW_SHOP_SECONDS = 1.0  # an origin not among them reads them again at most this often
# Home delivery as product pages promise it, faster home delivery a checkout may sell, or
# delivery to a store the shopper will choose.
WIDGET_LEVELS = tuple(
    level.value
    for level in (ServiceLevel.STANDARD, ServiceLevel.EXPRESS, ServiceLevel.PICKUP_POINT)
)


@bp.record_once
def _warm_up(state) -> None:
    """Calendars, postal index and models are built at start, not on a shopper's request."""
    runtime = state.app.extensions["shipflow"]
    runtime.edd.warm_up(runtime.clock.now())


@bp.get("/widget/v1/edd-widget.js")
def script():
    response = send_from_directory(STATIC, "edd-widget.js", max_age=3600)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _lines(args: MultiDict[str, str]) -> tuple[tuple[str, int], ...]:
    """A product page's `sku` (one unit), or a cart's `lines`: `SKU:quantity,SKU:quantity`."""
    if "lines" not in args:
        return ((_required(args, "sku"), 1),)
    parts = _required(args, "lines").split(",")
    found = [LINE.match(part.strip()) for part in parts]
    if len(parts) > MAX_LINES or not all(found):
        raise field_problem(
            "lines", f"expected up to {MAX_LINES} SKU:quantity pairs like TENT-2P:1,MUG:2", 400
        )
    return tuple((m.group(1), int(m.group(2))) for m in found if m)


def _levels(args: MultiDict[str, str]) -> tuple[ServiceLevel, ...]:
    """`service_level`: one level, or several (`standard,express`) to offer a choice."""
    asked = args.get("service_level", ServiceLevel.STANDARD).split(",")
    if not all(level in WIDGET_LEVELS for level in asked) or len(set(asked)) != len(asked):
        raise field_problem(
            "service_level",
            "use standard, express or pickup_point, or several like standard,express",
            400,
        )
    return tuple(ServiceLevel(level) for level in asked)


def _required(
    args: MultiDict[str, str], name: str, pattern: re.Pattern | None = None, hint: str = ""
) -> str:
    value = args.get(name, "").strip()
    if not value:
        raise field_problem(name, "is required", 400)
    if pattern and not pattern.match(value):
        raise field_problem(name, hint, 400)
    return value


@bp.get("/widget/v1/edd")
def edd():
    args, runtime = request.args, g.runtime  # each proxy looked up once
    code = _required(args, "brand")
    brand = runtime.settings.brand(code)
    g.widget_brand = brand
    if brand is None:
        raise field_problem("brand", f"no brand with code {code!r}", 404)
    lines = _lines(args)
    postal_code = _required(args, "postal_code", POSTAL_CODE, "expected a postal code like 10001")
    country = args.get("country", "US").strip().upper() or "US"
    try:
        validate_country(country)
    except ValueError as invalid:
        raise field_problem("country", str(invalid), 400) from None
    lang = args.get("lang")
    if lang and normalize(lang) is None:
        raise field_problem("lang", "unknown language; use en, zh-Hant, zh-Hans, ja or fa", 400)
    levels = _levels(args)
    now = runtime.clock.now()
    result = estimate_for_widget(
        runtime, brand, lines, postal_code, country, now, levels, normalize(lang) or "en"
    )
    if isinstance(result, ApiProblem):
        raise result
    response = jsonify(result)
    # The answer holds for the minute (the countdown is to the second within it) and never
    # past the cut-off, after which the promise moves a day.
    fresh = MAX_AGE - now.second
    for answer in (result, *result.get("options", ())):
        if answer.get("countdown_seconds"):
            fresh = min(fresh, answer["countdown_seconds"])
    response.headers["Cache-Control"] = f"public, max-age={max(fresh, 1)}"
    return response


@bp.after_request
def _cors(response):
    """Let the brand's own shop pages read the answer, errors included: its configured
    origins and the shops it has connected."""
    brand = g.get("widget_brand")
    origin = request.headers.get("Origin")
    if brand is not None and origin and _allowed(brand, origin):
        response.headers["Access-Control-Allow-Origin"] = origin
    if request.endpoint == "widget.edd":
        response.vary.add("Origin")
        if response.status_code >= 400:
            response.headers["Cache-Control"] = "no-store"
    return response


def _allowed(brand: BrandConfig, origin: str) -> bool:
    """A configured origin, or a connected shop's: those are read from the database per brand
    (one set per brand, whatever the origins asked), again after SHOP_ORIGINS_SECONDS (a shop
    disconnected is shut out within that) and, for an origin not among them, after
    NEW_SHOP_SECONDS (a shop connected a moment ago is let in within that, and a page of
    any other origin costs no query of its own)."""
    if origin in brand.allowed_origins:
        return True
    known = current_app.extensions.setdefault("shipflow.widget.shop_origins", {})
    read_at, origins = known.get(brand.code, (float("-inf"), frozenset()))
    now = monotonic()
    if now - read_at >= (SHOP_ORIGINS_SECONDS if origin in origins else NEW_SHOP_SECONDS):
        known[brand.code] = (now, origins)  # the requests meanwhile answer from these
        origins = shop_origins(g.db, brand.code)
        known[brand.code] = (now, origins)
    return origin in origins
