"""Routes of the tracking page. Who may see what: a signed link shows the whole shipment;
order number + e-mail leads to that link (or to the failed-delivery choice while a case is
open); order number + postal code leads to a link that shows status, dates and the city; a
tracking number alone shows status and dates only. No tracking page links to the
failed-delivery choice: that link lets one change the address, so only the e-mail carries it."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from flask import Blueprint, current_app, g, jsonify, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from carriers.directory import contact as carrier_contact
from shipflow import claims, proof_of_delivery
from shipflow import shipment_links as links
from shipflow.brands import brand_by_code
from shipflow.delays.alerts import alert_prediction_passed
from shipflow.domain import Status
from shipflow.feedback import FeedbackRefused, NotDelivered, answered, record
from shipflow.ndr.service import open_case_link, redelivery_day
from shipflow.orders import orders_numbered
from shipflow.recommendations import Card, recommend
from shipflow.returns.service import return_path
from shipflow.signatures import same_secret
from shipflow.store.models import Brand, Order, Shipment
from shipflow.store.postpurchase_models import ReturnRequestRow
from shipflow.update_subscriptions import (
    InvalidContact,
    normal_contact,
    offered_channels,
    subscribe,
)
from shipflow.web.csrf import check_csrf
from shipflow.web.i18n import gettext as _
from shipflow.web.inputs import ascii_int
from shipflow.web.pages import message_page, render_page, use_brand
from shipflow.web.problems import ApiProblem, not_found
from shipflow.web.ratelimit import Limit, limiter
from shipflow.web.tracking_page.presenter import (
    N_,
    STEPS,
    build_view,
    parcel_views,
    return_views,
)

bp = Blueprint("tracking_page", __name__, template_folder="templates")

LOOKUP_LIMIT = (10, 600)  # attempts per client per ten minutes
REFRESH_S = 60  # how often an open page asks whether its parcel has news
UPDATES_LIMIT = Limit("tracking-updates", 5, 3600)  # sign-ups per client, and per shipment
ORDER_LIMIT = Limit("tracking-lookup-order", 10, 3600)  # per order number, any client
CLAIM_LIMIT = Limit("tracking-claim", 5, 3600)  # claim forms per client, and per shipment
UNKNOWN_NUMBER = (
    "No parcel of this brand has this tracking number; check the number (new parcels can take "
    "a few hours to appear)."
)


@bp.errorhandler(HTTPException)
def _error_page(error: HTTPException):
    """People, not programs, use these pages: errors are pages in the brand's look."""
    if "brand" not in g:
        return error
    if error.code == 400:
        heading = _("This form has expired")
        advice = _("Please go back, reload the page and try again.")
    else:
        heading, advice = _("Something went wrong"), _("Please try again in a moment.")
    return _no_store(message_page(error.code or 500, heading, advice))


def _allowed(brand_code: str, order_number: str) -> bool:
    """Per client, and per order number so that rotating addresses cannot guess one order's
    contact; an empty order number is answered without counting it."""
    attempts, window = current_app.config.get("LOOKUP_RATE_LIMIT", LOOKUP_LIMIT)
    per_client = Limit("tracking-lookup-client", attempts, window)
    if not limiter().allow(per_client, f"{brand_code}:{request.remote_addr}"):
        return False
    number = order_number.lstrip("#").casefold()
    return not number or limiter().allow(ORDER_LIMIT, f"{brand_code}:{number}")


def _no_store(response_and_status):
    body, status = response_and_status
    return body, status, {"Cache-Control": "private, no-store"}


def _brand_id(code: str) -> str | None:
    row = brand_by_code(g.db, code)
    return row.id if row else None


def _of_brand(code: str):
    """The brand's id inside a shipment's query: one round trip per page, not two."""
    return select(Brand.id).where(Brand.code == code).scalar_subquery()


def _load(statement):
    return g.db.scalar(
        statement.options(
            selectinload(Shipment.events),
            selectinload(Shipment.order).selectinload(Order.lines),
        )
    )


def _view(shipment: Shipment, personal: bool, place: bool = False):
    now = g.runtime.clock.now()
    view = build_view(
        shipment,
        now,
        personal,
        return_window_days=g.brand.returns.window_days,
        default_zone=g.brand.warehouses[0].timezone,
        place=place,
        redelivery_on=redelivery_day(g.db, shipment.id)
        if shipment.status == "attempt_failed"
        else None,
    )
    if view.situation.overdue:
        alert_prediction_passed(g.db, shipment, now)
        g.db.commit()
    return view


# -- lookup by order number ---------------------------------------------------------------


def _normal_postal(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


def _contact_matches(order: Order, contact: str) -> bool:
    contact = contact.strip()
    if "@" in contact:
        expected, given = order.customer_email.strip().casefold(), contact.casefold()
    else:
        expected = _normal_postal(str((order.ship_to or {}).get("postal_code", "")))
        given = _normal_postal(contact)
        if (order.ship_to or {}).get("country") == "US":  # ZIP+4 or ZIP both match
            expected, given = expected[:5], given[:5]
    return bool(expected) and same_secret(given, expected)


@bp.get("/t/<brand_code>")
def lookup(brand_code: str):
    use_brand(brand_code)
    return _no_store(render_page("tracking/lookup.html", form={}, error=None))


@bp.post("/t/<brand_code>")
def lookup_submit(brand_code: str):
    use_brand(brand_code)
    check_csrf()
    form = {k: request.form.get(k, "").strip()[:254] for k in ("order_number", "contact")}
    if not _allowed(brand_code, form["order_number"]):
        return _no_store(
            message_page(
                429,
                _("Too many attempts"),
                _("For your security, please wait a few minutes before trying again."),
            )
        )
    if not all(form.values()):
        error = _("Please enter your order number and your e-mail address or postal code.")
        return _no_store(render_page("tracking/lookup.html", 400, form=form, error=error))
    brand_id = _brand_id(brand_code)
    order = next(
        (
            o
            for o in (orders_numbered(g.db, brand_id, form["order_number"]) if brand_id else [])
            if _contact_matches(o, form["contact"])
        ),
        None,
    )
    if order is None:
        # One answer whether the order is unknown or the contact is wrong: nothing to probe.
        error = _("We couldn't find an order with these details. Please check them and try again.")
        return _no_store(render_page("tracking/lookup.html", 404, form=form, error=error))
    by_email = "@" in form["contact"]
    forward = [s for s in order.shipments if s.kind == "forward"]
    if len(forward) == 1:
        return redirect(_parcel_link(brand_code, forward[0], by_email), 303)
    parcels = parcel_views(forward, "", lambda s: _parcel_link(brand_code, s, by_email))
    return _no_store(
        render_page("tracking/order.html", order_number=order.order_number, parcels=parcels)
    )


def _parcel_link(brand_code: str, shipment: Shipment, by_email: bool) -> str:
    """The e-mail address (only the customer's mailbox knows it) reaches the whole page, or
    the failed-delivery choice while a case is open; a postal code (anyone at the address,
    on the label or in a forwarded link knows it) reaches status, dates and the city."""
    if not by_email:
        return links.tracking_path(brand_code, shipment.id, g.runtime, place_only=True)
    settings, clock = g.runtime.settings, g.runtime.clock
    return open_case_link(g.db, settings, shipment.id, clock) or links.tracking_path(
        brand_code, shipment.id, g.runtime
    )


# -- tracking number only: status and dates -----------------------------------------------


@bp.get("/t/<brand_code>/number")
def number_form(brand_code: str):
    use_brand(brand_code)
    number = request.args.get("tracking_number", "").strip()
    if not number:
        return redirect(url_for(".lookup", brand_code=brand_code), 303)
    return redirect(url_for(".by_number", brand_code=brand_code, tracking_number=number), 303)


@bp.get("/t/<brand_code>/number/<tracking_number>")
def by_number(brand_code: str, tracking_number: str):
    use_brand(brand_code)
    shipment = _load(
        select(Shipment)
        .where(
            Shipment.brand_id == _of_brand(brand_code),
            Shipment.tracking_number == tracking_number.strip(),
        )
        .order_by(Shipment.created_at.desc())
        .limit(1)
    )
    wants_json = request.args.get("format") == "json"
    if shipment is None:
        if wants_json:  # a visitor with a number, not a brand with an id
            raise ApiProblem(404, "Not found", UNKNOWN_NUMBER)
        return message_page(
            404,
            _("We couldn't find this tracking number"),
            _("Please check the number. New parcels can take a few hours to appear."),
            action=(f"/t/{brand_code}", _("Look up your order")),
        )
    view = _view(shipment, personal=False)
    if wants_json:
        response = jsonify(public_json(view))
        response.headers["Cache-Control"] = "public, max-age=60"
        return response
    return render_page("tracking/page.html", view=view, links={}, steps=STEPS)


def public_json(view) -> dict:
    """The tracking-number-only JSON: status and dates, nothing about the person."""
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return {
        "tracking_number": view.tracking_number,
        "carrier": view.carrier,
        "status": view.status,
        "headline": _(view.headline),
        "promised_date": iso(view.promised_date),
        "predicted_date": iso(view.predicted_date),
        "delivered_on": iso(view.delivered_on),
        "events": [
            {"status": e.status, "label": _(e.label), "occurred_at": e.occurred_at.isoformat()}
            for e in view.events
        ],
    }


# -- the signed link: everything ----------------------------------------------------------


def _shipment_from_token(brand_code: str, token: str, place_ok: bool = True):
    """(shipment, grant, None) or (None, None, an error page that shows no data)."""
    try:
        grant = links.read_grant(g.runtime, links.TRACKING, brand_code, token)
        if grant.place_only and not place_ok:
            raise links.LinkInvalid(token)
    except links.LinkInvalid as refused:
        return None, None, _refusal(brand_code, refused)
    shipment = _load(
        select(Shipment).where(
            Shipment.id == grant.shipment_id, Shipment.brand_id == _of_brand(brand_code)
        )
    )
    if shipment is None:
        return None, None, message_page(404, _("We couldn't find this shipment"))
    return shipment, grant, None


def _refusal(brand_code: str, refused: links.LinkInvalid):
    if isinstance(refused, links.LinkExpired):
        return message_page(
            410,
            _("This tracking link has expired"),
            _("For your privacy, tracking links only work for a limited time."),
            _("You can still look up your order with its number and your e-mail address."),
            action=(f"/t/{brand_code}", _("Look up your order")),
        )
    return message_page(
        403,
        _("This tracking link isn't valid"),
        _("The link may be incomplete. Please copy the whole link from your e-mail."),
        action=(f"/t/{brand_code}", _("Look up your order")),
    )


def version(shipment: Shipment) -> str:
    """What the page shows changes with it: the status, the scans, the dates."""
    latest = max((e.occurred_at for e in shipment.events), default=None)
    facts = (shipment.status, len(shipment.events), latest, shipment.predicted_date)
    return '"' + hashlib.sha256(repr(facts).encode()).hexdigest()[:20] + '"'


def _refresh(brand_code: str, token: str, shipment: Shipment) -> dict:
    every = current_app.config.get("TRACKING_REFRESH_S", REFRESH_S)
    return {"url": f"/t/{brand_code}/{token}/version", "etag": version(shipment), "every": every}


@bp.get("/t/<brand_code>/<token>/version")
def page_version(brand_code: str, token: str):
    """The page's version for its refresh script (ETag; 304 while unchanged). The token is
    the page's own: who may read the page may know that it changed, nobody else."""
    use_brand(brand_code)
    shipment, _grant, error = _shipment_from_token(brand_code, token)
    if error:
        return _no_store(error)
    etag = version(shipment)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if request.if_none_match.contains(etag.strip('"')):
        return "", 304, headers
    return jsonify(status=shipment.status, scans=len(shipment.events)), 200, headers


@bp.get("/t/<brand_code>/<token>")
def page(brand_code: str, token: str):
    use_brand(brand_code)
    shipment, grant, error = _shipment_from_token(brand_code, token)
    if error:
        return _no_store(error)
    if grant.place_only:
        view = _with_parcels(_view(shipment, personal=False, place=True), brand_code, shipment)
        actions = {"arrange": _arrange_link(brand_code, view)}
        refresh = _refresh(brand_code, token, shipment)
        return _no_store(
            render_page(
                "tracking/page.html", view=view, links=actions, steps=STEPS, refresh=refresh
            )
        )
    return _no_store(_full_page(brand_code, token, shipment))


def _arrange_link(brand_code: str, view) -> str | None:
    """After a failed attempt: the lookup form, where the e-mail address leads to the choice."""
    return f"/t/{brand_code}" if view.attempt_failed else None


def _with_parcels(view, brand_code: str, shipment: Shipment):
    """The order's other parcels, each linked with the same reach as this page's link."""
    if shipment.order is None:
        return view
    place_only = not view.personal

    def link(s: Shipment) -> str:
        return links.tracking_path(brand_code, s.id, g.runtime, place_only=place_only)

    return replace(view, parcels=parcel_views(shipment.order.shipments, shipment.id, link))


def _full_page(brand_code: str, token: str, shipment: Shipment, status: int = 200, **extra):
    view = _with_parcels(_view(shipment, personal=True), brand_code, shipment)
    extra.setdefault("updates", {"done": request.args.get("updates") == "on"})
    given = view.delivered and answered(g.db, shipment.id)
    here = f"/t/{brand_code}/{token}"
    actions = {
        "arrange": _arrange_link(brand_code, view),
        "returns": f"/returns/{brand_code}" if view.return_until else None,
        "feedback": f"{here}/feedback",
        "updates": f"{here}/updates",
        "claim": f"{here}/claim",
        "proof_photo": f"{here}/proof-photo",
    }
    return render_page(
        "tracking/page.html",
        status,
        view=view,
        steps=STEPS,
        links=actions,
        refresh=_refresh(brand_code, token, shipment),
        update_channels=offered_channels(g.brand.customer_channels),
        feedback_given=bool(given),
        recommendations=_recommendations(shipment),
        claim=claims.claim_of(g.db, shipment.id) if view.delivered else None,
        returns=_returns(brand_code, shipment),
        **extra,
    )


def _recommendations(shipment: Shipment) -> list[Card]:
    """The brand's cards for this customer, leaving out what the order just bought."""
    bought = {line.sku for line in shipment.order.lines} if shipment.order else set()
    return recommend(
        g.brand,
        bought,
        lambda: g.runtime.services.best_sellers.of(g.db, shipment.brand_id, g.runtime.clock.now()),
    )


def _returns(brand_code: str, shipment: Shipment):
    """The order's returns, each linked to its own signed page (state, label, QR code)."""
    if shipment.order_id is None:
        return []
    rows = g.db.scalars(
        select(ReturnRequestRow).where(ReturnRequestRow.order_id == shipment.order_id)
    ).all()
    settings, clock = g.runtime.settings, g.runtime.clock
    return return_views(rows, lambda rid: return_path(settings, brand_code, rid, clock))


@bp.get("/t/<brand_code>/<token>/proof-photo")
def proof_photo(brand_code: str, token: str):
    """The carrier's photo of the delivered parcel: only through the customer's own link."""
    use_brand(brand_code)
    shipment, _grant, error = _shipment_from_token(brand_code, token, place_ok=False)
    if error:
        return _no_store(error)
    photo = proof_of_delivery.photo_of(g.db, shipment.id)
    if photo is None:
        raise not_found("photo")
    return photo.data, 200, {"Content-Type": photo.media_type, "Cache-Control": "private, no-store"}


@bp.route("/t/<brand_code>/<token>/claim", methods=["GET", "POST"])
def claim(brand_code: str, token: str):
    """ "I didn't get it" on a delivered parcel: a short form on a page of its own (the
    tracking page stays small), one claim per shipment opened for ops with the carrier's
    proof; back on the tracking page, what happens next."""
    use_brand(brand_code)
    shipment, _grant, error = _shipment_from_token(brand_code, token, place_ok=False)
    if error:
        return _no_store(error)
    back = f"/t/{brand_code}/{token}"
    if request.method == "GET":
        if shipment.status != Status.DELIVERED or claims.claim_of(g.db, shipment.id):
            return redirect(f"{back}#claim", 303)  # nothing to claim yet, or claimed already
        return _no_store(_claim_page(shipment, back, 200))
    check_csrf()
    if not (
        limiter().allow(CLAIM_LIMIT, f"{brand_code}:{request.remote_addr}")
        and limiter().allow(CLAIM_LIMIT, shipment.id)
    ):
        busy = _("Too many attempts. Please try again later.")
        return _no_store(_claim_page(shipment, back, 429, error=busy))
    try:
        form = claims.ClaimForm.read(request.form, request.form.getlist("checked"))
        claims.open_claim(g.db, shipment, form, g.language, g.runtime.clock.now())
    except claims.NotDelivered:
        return _no_store(_full_page(brand_code, token, shipment, 409))
    except claims.ClaimRefused as refused:
        problem = _(CLAIM_PROBLEMS[refused.field])
        return _no_store(_claim_page(shipment, back, 400, error=problem, field=refused.field))
    g.db.commit()
    return redirect(f"{back}#claim", 303)


def _claim_page(shipment: Shipment, back: str, status: int, error: str = "", field: str = ""):
    """The form, with what was typed kept after a refusal."""
    return render_page(
        "tracking/claim.html",
        status,
        back=back,
        carrier_name=carrier_contact(shipment.carrier).name,
        tracking_number=shipment.tracking_number,
        choices={"what": claims.WHAT_HAPPENED, "checked": claims.CHECKED},
        values=request.form,
        error=error,
        field=field,
    )


CLAIM_PROBLEMS = {
    "what_happened": N_("Please tell us what happened."),
    "contact": N_("Please enter a valid e-mail address or phone number."),
}


@bp.post("/t/<brand_code>/<token>/updates")
def updates(brand_code: str, token: str):
    """Sign a contact up for this parcel's news. Only on the customer's own page: the
    messages carry that page's link. The answer never repeats the contact."""
    use_brand(brand_code)
    check_csrf()
    shipment, _grant, error = _shipment_from_token(brand_code, token, place_ok=False)
    if error:
        return _no_store(error)
    if not (
        limiter().allow(UPDATES_LIMIT, f"{brand_code}:{request.remote_addr}")
        and limiter().allow(UPDATES_LIMIT, shipment.id)
    ):
        problem = _("Too many attempts. Please try again later.")
        return _no_store(_full_page(brand_code, token, shipment, 429, updates={"error": problem}))
    channel = request.form.get("channel", "")
    try:
        if channel not in offered_channels(g.brand.customer_channels):
            raise InvalidContact(channel)
        recipient = normal_contact(channel, request.form.get("contact", "")[:254])
    except InvalidContact:
        problem = _("Please enter a valid e-mail address or phone number.")
        return _no_store(_full_page(brand_code, token, shipment, 400, updates={"error": problem}))
    subscribe(g.db, shipment, channel, recipient, g.language, g.runtime.clock.now())
    g.db.commit()
    return redirect(f"/t/{brand_code}/{token}?updates=on#updates", 303)


@bp.post("/t/<brand_code>/<token>/feedback")
def feedback(brand_code: str, token: str):
    use_brand(brand_code)
    check_csrf()
    shipment, _grant, error = _shipment_from_token(brand_code, token, place_ok=False)
    if error:
        return _no_store(error)
    score = ascii_int(request.form.get("score", ""))
    comment = request.form.get("comment", "")
    try:
        record(g.db, shipment, score, comment, g.language, g.runtime.clock.now())
    except NotDelivered:
        return _no_store(_full_page(brand_code, token, shipment, 409))
    except FeedbackRefused:
        problem = _("Please choose a score from 0 to 10.")
        return _no_store(_full_page(brand_code, token, shipment, 400, feedback_error=problem))
    g.db.commit()  # an answer given already (another tab, a double click) keeps the first
    return redirect(f"/t/{brand_code}/{token}#feedback", 303)
