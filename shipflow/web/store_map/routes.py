"""The convenience-store map (ECPay's Express/map) for the pages that need a store: the
returns portal, the failed-delivery page and checkout integrations.

A page links to `store_map_path(...)`: `GET /store-map/<service>?return_to=<token>` posts the
customer's browser to ECPay's map; ECPay posts the chosen store to `POST /store-map/callback`,
which answers 303 to the page that asked with the store in its query: `store_id`,
`store_name`, `store_address`, `store_phone`, `store_network` and `store_chain` (ECPay's
LogisticsSubType, which an order's `pickup_point.chain` carries; a checkout integration's
return page reads them, or hands them to its opener with postMessage).

The token (signed, purpose "store-map", a day at most) names the brand, the ECPay account and
the page to return to, so nobody can send a customer elsewhere. ECPay's map echoes only 20
characters (ExtraData) and its callback is a cross-site POST that carries no Lax session
cookie: the token waits in a cookie of its own, on the callback's path for 30 minutes, and
ExtraData holds a nonce that binds the callback to it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, g, make_response, redirect, request
from werkzeug.exceptions import HTTPException

from carriers.base import CarrierRejected, CarrierResponseError
from carriers.ecpay import ECPayCarrier
from carriers.ecpay.mapping import parse_map_reply
from carriers.ecpay.units import NETWORKS, SERVICES
from shipflow import links
from shipflow.carrier_accounts import UnknownCarrierAccount
from shipflow.signatures import same_secret
from shipflow.web.headers import content_security_policy
from shipflow.web.pages import private, private_error_page, render_page, use_brand

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

bp = Blueprint("store_map", __name__, template_folder="templates")
PURPOSE = "store-map"
LINK_AGE = timedelta(days=1)
CALLBACK = "/store-map/callback"
COOKIE = "shipflow_store_map"
COOKIE_AGE = 30 * 60  # seconds to choose a store


def store_map_path(
    runtime: Runtime,
    brand_code: str,
    account_code: str,
    service: str,
    return_to: str,
    cash_on_delivery: bool = False,
) -> str:
    """The link that lets a customer choose a store of `service` ("unimart", "famic2c", ...)
    on `account_code`'s map, then brings them back to `return_to` with it."""
    data = {"b": brand_code, "a": account_code, "u": return_to, "c": int(cash_on_delivery)}
    token = links.make_token(runtime.settings.signing_key("links"), PURPOSE, data, runtime.clock)
    return f"/store-map/{service}?{urlencode({'return_to': token})}"


def is_store_map_service(carrier: str, service: str) -> bool:
    """Whether parcels of this carrier and service go to a store chosen on ECPay's map."""
    return carrier == ECPayCarrier.name and SERVICES.get(service, ("", ""))[1] in NETWORKS


@bp.errorhandler(HTTPException)
def _error_page(error: HTTPException):
    return private_error_page(error)


def _grant(token: str) -> dict:
    try:
        data = links.read_token(
            g.runtime.settings.signing_key("links"), PURPOSE, token, LINK_AGE, g.runtime.clock
        )
    except links.LinkExpired:
        abort(410)
    except links.LinkInvalid:
        abort(403)
    if not isinstance(data, dict) or not {"b", "a", "u"} <= data.keys():
        abort(403)
    use_brand(data["b"])
    return data


@bp.get("/store-map/<service>")
def open_map(service: str):
    token = request.args.get("return_to", "")
    grant = _grant(token)
    try:
        adapter = g.runtime.carriers.account(grant["b"], grant["a"])
    except UnknownCarrierAccount:
        abort(404)
    if not isinstance(adapter, ECPayCarrier):
        abort(404)
    nonce = secrets.token_urlsafe(12)  # 16 characters: ExtraData holds 20
    reply_url = g.runtime.settings.base_url.rstrip("/") + CALLBACK
    try:
        map_url, fields = adapter.store_map_form(service, bool(grant.get("c")), reply_url, nonce)
    except CarrierRejected:
        abort(404)
    body, status, headers = private(
        render_page("store_map/open.html", map_url=map_url, fields=fields)
    )
    response = make_response(body, status, headers)
    map_origin = "{0.scheme}://{0.netloc}".format(urlsplit(map_url))
    response.headers["Content-Security-Policy"] = content_security_policy().replace(
        "form-action 'self'", f"form-action 'self' {map_origin}"
    )
    https = g.runtime.settings.base_url.startswith("https://")
    response.set_cookie(
        COOKIE,
        f"{nonce}.{token}",
        max_age=COOKIE_AGE,
        path=CALLBACK,
        secure=https,
        httponly=True,
        samesite="None" if https else "Lax",
    )
    return response


@bp.post(CALLBACK)
def callback():
    nonce, _, token = request.cookies.get(COOKIE, "").partition(".")
    grant = _grant(token)
    if not nonce or not same_secret(request.form.get("ExtraData", ""), nonce):
        abort(403)
    try:
        store = parse_map_reply(request.form.to_dict())
    except CarrierResponseError:
        abort(400)
    address = store.address
    query = urlencode(
        {
            "store_id": store.id,
            "store_name": store.name,
            "store_address": address.line1 if address else "",
            "store_phone": address.phone if address else "",
            "store_network": store.network,
            "store_chain": store.chain,
        }
    )
    target = grant["u"]
    response = redirect(f"{target}{'&' if '?' in target else '?'}{query}", 303)
    response.headers["Cache-Control"] = "private, no-store"
    response.delete_cookie(COOKIE, path=CALLBACK)
    return response
