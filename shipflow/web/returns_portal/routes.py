"""Routes of the returns portal. A wrong order number/e-mail pair and an order with nothing
to return get the same answer, so the form tells a guesser nothing; lookups are rate
limited per client. After the lookup, signed tokens carry the order and the return."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Blueprint, Response, current_app, g, make_response, redirect, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from carriers.base import CarrierError
from shipflow.links import LinkExpired, LinkInvalid, make_token, read_token
from shipflow.postpurchase import issue_return_label, submit_return
from shipflow.returns import service as returns
from shipflow.returns.photos import MAX_BYTES, PhotoRefused, store_photos
from shipflow.returns.service import ItemChoice, SendBack
from shipflow.store.db import for_update
from shipflow.store.models import Brand, Order, Shipment
from shipflow.store.postpurchase_models import LabelRow, ReturnRequestRow
from shipflow.web.csrf import check_csrf
from shipflow.web.i18n import current_language, format_day, format_number
from shipflow.web.i18n import gettext as _
from shipflow.web.inputs import ascii_int
from shipflow.web.pages import (
    N_,
    message_page,
    private,
    private_error_page,
    render_page,
    use_brand,
)
from shipflow.web.ratelimit import Limit, limiter
from shipflow.web.returns_portal.send_back import Way, home_way, way_for_store, ways
from shipflow.web.store_map.routes import store_map_path

bp = Blueprint("returns_portal", __name__, template_folder="templates")

LOOKUP_LIMIT = (10, 60)  # lookups per client per minute
ORDER_LIMIT = Limit("returns-lookup-order", 10, 3600)  # per order number, any client
ORDER_PURPOSE = "return-order"
ORDER_TOKEN_AGE = timedelta(hours=2)
LABEL_TYPES = {
    "PDF": "application/pdf",
    "PNG": "image/png",
    "QR": "image/png",
    "GIF": "image/gif",
    "TEXT": "text/plain; charset=utf-8",  # a store return's code, keyed in at the kiosk
}
STORE_FIELDS = ("store_id", "store_name", "store_address", "store_phone", "store_network")
MOBILE = re.compile(r"09\d{8}")
REASONS = {
    "changed_mind": N_("I changed my mind"),
    "wrong_size": N_("Wrong size or fit"),
    "not_as_described": N_("Not as described"),
    "arrived_late": N_("It arrived too late"),
    "damaged": N_("It arrived damaged"),
    "wrong_item": N_("I received the wrong item"),
}
VERDICTS = {
    "approved": N_("Your return is approved"),
    "label_created": N_("Your return is approved"),
    "review": N_("We'll look at your return"),
    "refused": N_("We can't accept this return"),
}


@bp.errorhandler(HTTPException)
def _error_page(error: HTTPException):
    return private_error_page(error, {413: (_("These photos are too large"), _(PHOTO_RULE))})


PHOTO_RULE = N_("Photos must be JPEG, PNG or WebP images under 5 MB, at most 3 per item.")


def _allowed(brand_code: str, order_number: str) -> bool:
    """Per client, and per order number so that rotating addresses cannot guess one order's
    e-mail or postal code."""
    attempts, window = current_app.config.get("RETURNS_RATE_LIMIT", LOOKUP_LIMIT)
    per_client = Limit("returns-lookup-client", attempts, window)
    if not limiter().allow(per_client, f"{brand_code}:{request.remote_addr}"):
        return False
    number = order_number.strip().casefold()
    return not number or limiter().allow(ORDER_LIMIT, f"{brand_code}:{number}")


def _secret() -> str:
    return g.runtime.settings.signing_key("links")


def _brand_row(code: str) -> Brand | None:
    return g.db.scalar(select(Brand).where(Brand.code == code))


def reason_label(reason: str) -> str:
    return _(REASONS[reason]) if reason in REASONS else reason.replace("_", " ").capitalize()


REFUSALS = {
    "final_sale": N_("This item was a final sale and cannot be returned."),
    "photos_required": N_("Please add photos of the damage to return this item."),
    "reason_not_allowed": N_("This reason is not accepted for returns."),
    "quantity": N_("You can return at most %(remaining)s of this item."),
    "not_delivered": N_("This order has not been delivered yet."),
    "outside_window": N_("The %(days)s-day return window ended on %(deadline)s."),
}


def refusal_text(code: str, params: dict) -> str:
    """The rule that refused an item, in the customer's language."""
    if code not in REFUSALS:
        return _("This item cannot be returned.")
    params = {k: format_number(int(v)) if str(v).isdigit() else v for k, v in params.items()}
    if code == "outside_window":
        deadline = date.fromisoformat(params["deadline"])
        params = {**params, "deadline": format_day(deadline, with_year=True)}
    return _(REFUSALS[code], **params)


@bp.get("/returns/<brand_code>")
def lookup(brand_code: str):
    use_brand(brand_code)
    return private(render_page("returns/lookup.html", form={}))


def _nothing_to_return():
    """One answer for a wrong pair and for an order with nothing to return."""
    return private(
        render_page(
            "returns/lookup.html",
            200,
            form=request.form,
            notice=_(
                "We couldn't find a delivered order with items to return for these details. "
                "Check the order number and the e-mail address or postal code you used."
            ),
        )
    )


@bp.post("/returns/<brand_code>")
def find(brand_code: str):
    use_brand(brand_code)
    check_csrf()
    order_number = request.form.get("order_number", "")[:64]
    if not _allowed(brand_code, order_number):
        heading = _("Too many attempts")
        return private(message_page(429, heading, _("Please wait a minute and try again.")))
    brand = _brand_row(brand_code)
    order = (
        returns.find_order(g.db, brand.id, order_number, request.form.get("secret", "")[:254])
        if brand
        else None
    )
    lines = returns.returnable_lines(g.db, order) if order else []
    if order is None or not lines:
        return _nothing_to_return()
    return _items_page(order, lines)


def _items_page(order: Order, lines, status: int = 200, error: str = ""):
    policy = returns.policy_for(g.db, order.brand_id, g.runtime.settings)
    reasons = [(name, reason_label(name)) for name, rule in policy.reasons.items() if rule.allowed]
    photo_reasons = [name for name, rule in policy.reasons.items() if rule.photos_required]
    return private(
        render_page(
            "returns/items.html",
            status,
            order=order,
            lines=lines,
            reasons=reasons,
            photo_reasons=photo_reasons,
            order_token=make_token(_secret(), ORDER_PURPOSE, order.id, g.runtime.clock),
            error=error,
        )
    )


@bp.post("/returns/<brand_code>/request")
def submit(brand_code: str):
    use_brand(brand_code)
    check_csrf()
    try:
        order_id = read_token(
            _secret(),
            ORDER_PURPOSE,
            request.form.get("order", ""),
            ORDER_TOKEN_AGE,
            g.runtime.clock,
        )
    except LinkInvalid:
        return private(
            message_page(400, _("This form has expired"), _("Please look up your order again."))
        )
    # Locked until the return commits: what is left to return is read, and the label bought,
    # by one submission at a time, so a form sent twice at once returns the items once.
    order = g.db.scalar(for_update(g.db, select(Order).where(Order.id == order_id)))
    brand = _brand_row(brand_code)
    if order is None or brand is None or order.brand_id != brand.id:
        return private(message_page(400, _("This form has expired")))
    lines = returns.returnable_lines(g.db, order)
    try:
        choices = _choices(order, lines)
    except PhotoRefused:
        g.db.rollback()
        return _items_page(order, lines, 400, _(PHOTO_RULE))
    except BadQuantity:
        g.db.rollback()
        return _items_page(order, lines, 400, _("Please choose at least one item to return."))
    if not choices:
        return _items_page(order, lines, 400, _("Please choose at least one item to return."))
    buy_label = not ways(g.runtime.settings, brand_code)  # else the customer chooses first
    request_row = submit_return(g.runtime, g.db, order, choices, current_language(), buy_label)
    g.db.commit()
    path = returns.return_path(g.runtime.settings, brand_code, request_row.id, g.runtime.clock)
    return redirect(path, 303)


class BadQuantity(ValueError):
    """A quantity that is not a number the form offers (an edited form)."""


def _choices(order: Order, lines) -> list[ItemChoice]:
    chosen = []
    left = {sku: quantity for sku, _name, quantity, _price in lines}
    for sku, quantity in left.items():
        count = ascii_int(request.form.get(f"quantity-{sku}", "0"))
        if count is None:
            raise BadQuantity(sku)
        if count <= 0:
            continue
        photos = store_photos(g.db, order.brand_id, _uploads(f"photos-{sku}"))
        reason = request.form.get(f"reason-{sku}", "")[:32]
        chosen.append(ItemChoice(sku, min(count, quantity), reason, tuple(photos)))
    return chosen


def _uploads(field: str) -> list[bytes]:
    """The files of one input (an empty input sends one without a name), each read up to
    one byte past the limit, so a larger one shows as too large without being read whole."""
    return [f.read(MAX_BYTES + 1) for f in request.files.getlist(field) if f and f.filename]


def _return_of(brand_code: str, token: str) -> ReturnRequestRow | Response:
    """The return a signed link names, or the page that says the link is no good."""
    max_age = timedelta(days=g.runtime.settings.link_max_age_days)
    try:
        return_id = read_token(_secret(), returns.RETURN_PURPOSE, token, max_age, g.runtime.clock)
    except LinkExpired:
        return make_response(private(message_page(410, _("This link has expired"))))
    except LinkInvalid:
        return make_response(private(message_page(403, _("This link is not valid"))))
    request_row = g.db.get(ReturnRequestRow, return_id)
    brand = _brand_row(brand_code)
    if request_row is None or brand is None or request_row.brand_id != brand.id:
        return make_response(private(message_page(403, _("This link is not valid"))))
    return request_row


@bp.get("/returns/<brand_code>/r/<token>")
def decision(brand_code: str, token: str):
    use_brand(brand_code)
    request_row = _return_of(brand_code, token)
    if isinstance(request_row, Response):
        return request_row
    return _decision_page(brand_code, request_row)


def _decision_page(
    brand_code: str, request_row: ReturnRequestRow, status: int = 200, error: str = ""
):
    order = g.db.get(Order, request_row.order_id)
    names = {line.sku: line.name or line.sku for line in order.lines}
    refusals = {
        r["sku"]: refusal_text(r["code"], r["params"])
        for r in request_row.decision.get("refusals", [])
    }
    labels, code, shipment = {}, "", None
    if request_row.shipment_id:
        shipment = g.db.get(Shipment, request_row.shipment_id)
        for label in g.db.scalars(
            select(LabelRow).where(LabelRow.shipment_id == request_row.shipment_id)
        ):
            if label.label_format == "TEXT":
                code = label.data.decode()
            elif label.data:
                labels[label.label_format] = returns.label_link(
                    g.runtime.settings, label.id, g.runtime.clock
                ).removeprefix(g.runtime.settings.base_url)
    return private(
        render_page(
            "returns/decision.html",
            status,
            request_row=request_row,
            order=order,
            heading=_(VERDICTS.get(request_row.status, VERDICTS["approved"])),
            names=names,
            refusals=refusals,
            reason_label=reason_label,
            labels=labels,
            return_code=code,
            shipment=shipment,
            store=(shipment.details or {}).get("drop_off_store") if shipment else None,
            choice=_choice(brand_code, request_row, order, error),
        )
    )


def _choice(brand_code: str, request_row: ReturnRequestRow, order: Order, error: str):
    """How to send it back, while an approved return has no label yet: a store of a chain the
    brand's ECPay account serves (chosen on ECPay's map, which comes back to this signed page
    with the store in its query) or a pickup at home."""
    offered = ways(g.runtime.settings, brand_code)
    if request_row.status != "approved" or request_row.shipment_id or not offered:
        return None
    stores = [w for w in offered if w.chain]
    # The map's answer in the query; a refused POST keeps the store it sent.
    chosen = {k: request.values.get(k, "")[:200] for k in (*STORE_FIELDS, "store_chain")}
    way = way_for_store(stores, chosen["store_chain"]) if chosen["store_id"] else None
    if chosen["store_id"] and way is None:
        error = error or _(
            "We can't take returns at %(chain)s stores. Please choose a store of %(chains)s.",
            chain=chosen["store_network"] or chosen["store_chain"],
            chains=", ".join(w.chain for w in stores),
        )
    return {
        "maps": [(w.chain, _map_link(brand_code, w)) for w in stores],
        "store": chosen if way else None,
        "home": home_way(offered),
        "phone": order.customer_phone,
        "error": error,
    }


def _map_link(brand_code: str, way: Way) -> str:
    return store_map_path(g.runtime, brand_code, way.account, way.service, request.path)


@bp.post("/returns/<brand_code>/r/<token>")
def send_back(brand_code: str, token: str):
    """The customer's way back: the chosen store's chain (or the home pickup) decides which
    of ECPay's reverse services issues the return."""
    use_brand(brand_code)
    check_csrf()
    found = _return_of(brand_code, token)
    if isinstance(found, Response):
        return found
    # Locked until the label commits: a form sent twice buys one return.
    request_row = g.db.scalar(
        for_update(g.db, select(ReturnRequestRow).where(ReturnRequestRow.id == found.id))
    )
    offered = ways(g.runtime.settings, brand_code)
    if request_row.status != "approved" or request_row.shipment_id or not offered:
        return redirect(request.path, 303)
    store = {k: request.form.get(k, "")[:200] for k in (*STORE_FIELDS, "store_chain")}
    way = (
        way_for_store(offered, store["store_chain"])
        if request.form.get("way") == "store"
        else home_way(offered)
    )
    phone = re.sub(r"^\+886", "0", re.sub(r"[\s()-]", "", request.form.get("phone", "")))[:20]
    if way is None:
        error = _(
            "Please choose a store of %(chains)s.",
            chains=", ".join(w.chain for w in offered if w.chain),
        )
        return _decision_page(brand_code, request_row, 400, error)
    if not MOBILE.fullmatch(phone):
        error = _("Please give your mobile number (10 digits starting 09): the carrier texts it.")
        return _decision_page(brand_code, request_row, 400, error)
    chosen = SendBack(way.account, way.service, phone, store if way.chain else {})
    try:
        issue_return_label(g.runtime, g.db, request_row, g.runtime.clock.now(), chosen)
    except (CarrierError, returns.ReturnError):
        g.db.rollback()
        error = _("The carrier could not take this return just now. Please try again later.")
        return _decision_page(brand_code, request_row, 502, error)
    g.db.commit()
    return redirect(request.path, 303)


def _label_refused(status: int, heading: str):
    """A label link's refusal: the page every customer link shows, in the first brand's look
    (the path names no brand, and a link that is no good tells us none)."""
    use_brand(g.runtime.settings.brands[0].code)
    return private(message_page(status, heading))


@bp.get("/returns/label/<token>")
def label(token: str):
    max_age = timedelta(days=g.runtime.settings.link_max_age_days)
    try:
        label_id = read_token(_secret(), returns.LABEL_PURPOSE, token, max_age, g.runtime.clock)
    except LinkExpired:
        return _label_refused(410, _("This link has expired"))
    except LinkInvalid:
        return _label_refused(403, _("This link is not valid"))
    row = g.db.get(LabelRow, label_id)
    if row is None:
        return _label_refused(403, _("This link is not valid"))
    kind = LABEL_TYPES.get(row.label_format, "application/octet-stream")
    extension = {"QR": "png"}.get(row.label_format, row.label_format.lower())
    disposition = "inline" if kind.startswith("image/") else "attachment"
    return Response(
        row.data,
        mimetype=kind,
        headers={
            "Content-Disposition": f'{disposition}; filename="return-label.{extension}"',
            "Cache-Control": "private, no-store",
        },
    )
