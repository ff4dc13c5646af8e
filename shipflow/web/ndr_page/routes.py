"""Routes of the failed-delivery page. The signed link (purpose "ndr") names the case; an
expired or altered link shows a page that says so and changes nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, g, redirect, request
from werkzeug.exceptions import HTTPException

from carriers.base import FailedDeliveryAction as Action
from carriers.ecpay.units import NETWORKS, SERVICES
from shipflow.carrier_accounts import UnknownCarrierAccount
from shipflow.config import BrandConfig
from shipflow.customer_messages import zone_for
from shipflow.domain import Address, PickupPoint, Reason
from shipflow.links import LinkExpired, LinkInvalid, read_token
from shipflow.ndr.choices import pickup_point, reattempt_dates
from shipflow.ndr.service import LINK_PURPOSE, offered_actions, policy_for
from shipflow.ndr.workflow import OPEN_STATES, CaseState, available_actions
from shipflow.postpurchase import ndr_service
from shipflow.store.models import Brand, Order, Shipment
from shipflow.store.postpurchase_models import NdrCaseRow
from shipflow.web.csrf import check_csrf
from shipflow.web.i18n import gettext as _
from shipflow.web.pages import (
    N_,
    message_page,
    private,
    private_error_page,
    render_page,
    use_brand,
)
from shipflow.web.store_map.routes import is_store_map_service, store_map_path

bp = Blueprint("ndr_page", __name__, template_folder="templates")
FIELD_MAX = 200
STORE_FIELDS = ("store_id", "store_name", "store_address")
STORE_ID = re.compile(r"[0-9A-Za-z]{1,10}")  # a store id as ECPay's map gives it

REASONS = {
    Reason.CUSTOMER_UNAVAILABLE: N_("Nobody was available to receive the parcel."),
    Reason.ADDRESS_INCORRECT: N_("The driver could not find the address."),
    Reason.REFUSED: N_("The parcel was refused at the door."),
    Reason.BUSINESS_CLOSED: N_("The business was closed."),
    Reason.ACCESS_PROBLEM: N_("The driver could not get to the door (gate, code or building)."),
    Reason.WEATHER: N_("Bad weather stopped the delivery."),
    Reason.PAYMENT_REQUIRED: N_("A payment is due before delivery."),
    Reason.COD_REFUSED: N_("The payment due on delivery was not made."),
    Reason.NOT_COLLECTED: N_("The parcel was not collected from the pickup point in time."),
}
ACTIONS = {
    Action.REATTEMPT: N_("Deliver again on another day"),
    Action.UPDATE_ADDRESS: N_("Correct the address, phone or delivery instructions"),
    Action.HOLD_AT_PICKUP_POINT: N_("Collect it at a pickup point"),
    Action.RETURN_TO_SENDER: N_("Send it back to the shop"),
}


@dataclass
class Visit:
    case: NdrCaseRow
    shipment: Shipment
    order: Order | None
    brand: BrandConfig


@bp.errorhandler(HTTPException)
def _error_page(error: HTTPException):
    return private_error_page(error)


def _visit(token: str):
    """The case the link grants, or the page to show instead."""
    max_age = timedelta(days=g.runtime.settings.link_max_age_days)
    try:
        case_id = read_token(
            g.runtime.settings.signing_key("links"), LINK_PURPOSE, token, max_age, g.runtime.clock
        )
        error = None
    except LinkExpired:
        case_id, error = None, (410, _("This link has expired"))
    except LinkInvalid:
        case_id, error = None, (403, _("This link is not valid"))
    case = g.db.get(NdrCaseRow, case_id) if isinstance(case_id, str) else None
    if case is None:
        use_brand(g.runtime.settings.brands[0].code)
        status, heading = error or (403, _("This link is not valid"))
        advice = _("Please use the link in our latest message, or contact us.")
        return None, private(message_page(status, heading, advice))
    shipment = g.db.get(Shipment, case.shipment_id)
    brand = use_brand(g.db.get(Brand, case.brand_id).code)
    order = g.db.get(Order, shipment.order_id) if shipment.order_id else None
    return Visit(case, shipment, order, brand), None


def _dates(visit: Visit) -> list[date]:
    local_today = g.runtime.clock.now().date()
    return reattempt_dates(
        visit.brand,
        visit.shipment.carrier,
        visit.shipment.carrier_account,
        visit.shipment.service,
        (visit.order.ship_to if visit.order else None) or {},
        local_today,
        policy_for(g.db, visit.case.brand_id, g.runtime.settings),
    )


def _actions(visit: Visit) -> list[Action]:
    """The choices the shipment's carrier can carry out (all of them where ops do, as for a
    carrier the brand no longer has an account with)."""
    try:
        carrier = ndr_service(g.runtime, g.db).carrier_for(visit.shipment)
        offered = offered_actions(carrier, visit.shipment.service)
    except UnknownCarrierAccount:
        offered = frozenset(Action)
    reason = Reason(visit.case.reason) if visit.case.reason else None
    return available_actions(reason, offered)


def _page(visit: Visit, token: str, status: int = 200, error: str = ""):
    reason = Reason(visit.case.reason) if visit.case.reason else None
    open_case = CaseState(visit.case.state) in OPEN_STATES
    ship_to = (visit.order.ship_to if visit.order else None) or {}
    chosen_day = (visit.case.action_details or {}).get("reattempt_on")
    return private(
        render_page(
            "ndr/page.html",
            status,
            token=token,
            case=visit.case,
            shipment=visit.shipment,
            order=visit.order,
            ship_to=ship_to,
            reason_text=_(REASONS[reason]) if reason in REASONS else "",
            actions=[(a.value, _(ACTIONS[a])) for a in _actions(visit)] if open_case else [],
            chosen=_(ACTIONS[Action(visit.case.action)]) if visit.case.action else "",
            chosen_day=date.fromisoformat(chosen_day) if chosen_day else None,
            dates=_dates(visit) if open_case else [],
            pickup_points=visit.brand.ndr.pickup_points,
            store_map_url=_store_map_url(visit, token),
            mapped_store=_mapped_store(visit),
            error=error,
            form=request.form,
            attempted_at=visit.shipment.last_event_at or visit.case.last_contact_at,
            zone=ZoneInfo(zone_for(ship_to)),
        )
    )


def _store_map_url(visit: Visit, token: str) -> str:
    """ECPay store parcels: a link to choose another store on ECPay's map, back to here."""
    shipment = visit.shipment
    if not is_store_map_service(shipment.carrier, shipment.service):
        return ""
    return store_map_path(
        g.runtime, visit.brand.code, shipment.carrier_account, shipment.service, f"/ndr/{token}"
    )


def _mapped_store(visit: Visit) -> dict[str, str]:
    """The store the map brought back (`store_*` in the query), for ECPay store parcels."""
    shipment = visit.shipment
    if not is_store_map_service(shipment.carrier, shipment.service):
        return {}
    store = {k[6:]: request.args.get(k, "")[:FIELD_MAX] for k in STORE_FIELDS}
    return store if store["id"] else {}


@bp.get("/ndr/<token>")
def page(token: str):
    visit, refusal = _visit(token)
    return refusal or _page(visit, token)


def _text(name: str) -> str:
    return request.form.get(name, "").strip()[:FIELD_MAX]


def _choice(visit: Visit) -> tuple[Action, dict] | str:
    """The form as arguments of NdrService.choose, or what to tell the customer."""
    try:
        action = Action(request.form.get("action", ""))
    except ValueError:
        return _("Please choose one of the options.")
    if action not in _actions(visit):
        return _("Please choose one of the options.")
    if action is Action.REATTEMPT:
        wanted = request.form.get("reattempt_on", "")
        offered = {d.isoformat(): d for d in _dates(visit)}
        if wanted not in offered:
            return _("Please choose one of the delivery days offered.")
        return action, {"reattempt_on": offered[wanted], "instructions": _text("instructions")}
    if action is Action.UPDATE_ADDRESS:
        ship_to = (visit.order.ship_to if visit.order else None) or {}
        line1, postal = _text("line1"), _text("postal_code")
        if not line1 or not postal:
            return _("Please give the street address and the postal code.")
        address = Address(
            country=ship_to.get("country", ""),
            postal_code=postal,
            city=_text("city") or ship_to.get("city", ""),
            state=ship_to.get("state", ""),
            line1=line1,
            line2=_text("line2"),
            name=ship_to.get("name", ""),
            phone=_text("phone"),
        )
        return action, {"address": address, "instructions": _text("instructions")}
    if action is Action.HOLD_AT_PICKUP_POINT:
        point = _chosen_point(visit, request.form.get("pickup_point_id", ""))
        return (action, {"pickup_point": point}) if point else _("Please choose a pickup point.")
    return action, {}


def _chosen_point(visit: Visit, chosen: str) -> PickupPoint | None:
    """One of the brand's pickup points, or the store ECPay's map brought back (its name and
    address came with it, as the page's hidden `store_*` fields)."""
    country = ((visit.order.ship_to if visit.order else None) or {}).get("country", "")
    configured = pickup_point(visit.brand, chosen)
    if configured is not None:
        address = Address(country, "", line1=configured.address, residential=False)
        return PickupPoint(configured.id, configured.name, address=address, hours=configured.hours)
    if not (STORE_ID.fullmatch(chosen) and _store_map_url(visit, "")):
        return None
    mapped = {k: _text(k) if _text("store_id") == chosen else "" for k in STORE_FIELDS}
    sub = SERVICES[visit.shipment.service][1]
    address = Address(country, "", line1=mapped["store_address"], residential=False)
    return PickupPoint(chosen, mapped["store_name"], NETWORKS[sub], address, chain=sub)


@bp.post("/ndr/<token>")
def choose(token: str):
    visit, refusal = _visit(token)
    if refusal:
        return refusal
    check_csrf()
    if CaseState(visit.case.state) not in OPEN_STATES:
        return _page(visit, token, 409, _("Your choice was already passed on."))
    choice = _choice(visit)
    if isinstance(choice, str):
        return _page(visit, token, 400, choice)
    action, details = choice
    ndr_service(g.runtime, g.db).choose(visit.case, action, g.runtime.clock.now(), **details)
    g.db.commit()
    return redirect(f"/ndr/{token}#done", 303)
