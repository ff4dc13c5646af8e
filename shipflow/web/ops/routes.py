"""The ops pages at /ops: a login per brand, the alerts list with acknowledge/resolve, the
failed deliveries waiting for a person, and on-time charts. Every query is scoped by the
logged-in user's brand."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from carriers.base import CarrierError
from carriers.directory import contact as carrier_contact
from shipflow import claims, ops_cases, ops_remedies, proof_of_delivery
from shipflow.allocation.service import NotAllocated
from shipflow.delays import alerts as alert_store
from shipflow.delays.config import KINDS, SEVERITIES
from shipflow.delays.performance import on_time_by_week
from shipflow.domain import Reason
from shipflow.label_purchases import PurchasePending
from shipflow.ndr.service import QueueFilter, failed_delivery_queue, ndr_metrics
from shipflow.ops_users import USER_ID, authenticate, end_sessions, sign_in, signed_in_user
from shipflow.store.models import Alert, Brand
from shipflow.store.postpurchase_models import NdrCaseRow
from shipflow.web.api.pagination import decode_cursor, encode_cursor
from shipflow.web.csrf import check_csrf, csrf_token
from shipflow.web.ops import throttle
from shipflow.web.ops.presenter import share_chart, share_rows
from shipflow.web.problems import ApiProblem

bp = Blueprint("ops", __name__, url_prefix="/ops", template_folder="templates")
PAGE_SIZE = 50
QUEUE_SIZE = 200  # failed deliveries shown
FILTERS = ("kind", "severity", "carrier", "status")  # of the alerts list
STATUS_CHOICES = (alert_store.UNRESOLVED, *alert_store.STATUSES, "all")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
CLAIM_STATES = (claims.OPEN, claims.CLOSED, "all")
# the actions that do something, not only leave a note (`shipflow.ops_remedies`)
REMEDIES = {ops_remedies.RESHIP: ops_remedies.reship, ops_remedies.REFUND: ops_remedies.refund}


@bp.errorhandler(HTTPException)
def _error_page(exc: HTTPException):
    """People get a page here, not the API's problem+json."""
    return render_template("ops/error.html", error=exc), exc.code


@bp.context_processor
def _template_helpers() -> dict:
    return {"csrf_token": csrf_token}


@bp.before_request
def _guard():
    if request.method == "POST":
        check_csrf()
    if request.endpoint == "ops.login":
        return None
    user = signed_in_user(g.db, session)
    if user is None:
        session.pop(USER_ID, None)
        return redirect(url_for("ops.login", next=request.full_path))
    g.ops_user = user
    g.ops_brand = g.db.get(Brand, user.brand_id)
    return None


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/ops") and not target.startswith("//"):
        return target
    return url_for("ops.alerts")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        form = request.form
        wait = throttle.seconds_to_wait(form.get("brand", ""), form.get("email", ""))
        if wait:
            error = f"Too many failed attempts. Try again in {wait} s."
            return _login_page(error, 429, {"Retry-After": str(wait)})
        user = authenticate(
            g.db,
            form.get("brand", ""),
            form.get("email", ""),
            form.get("password", ""),
            g.runtime.clock.now(),
        )
        throttle.record(form.get("brand", ""), form.get("email", ""), user is not None)
        if user is not None:
            g.db.commit()
            session.clear()  # a fresh session (and CSRF token) for the signed-in user
            sign_in(session, user)
            csrf_token()
            return redirect(_safe_next(form.get("next")))
        error = "Unknown brand, e-mail or password."
    return _login_page(error, 401 if error else 200)


def _login_page(error: str | None, status: int, headers: dict[str, str] | None = None):
    brands = g.runtime.settings.brands
    return (
        render_template(
            "ops/login.html",
            error=error,
            next=request.values.get("next", ""),
            brand=request.form.get("brand", brands[0].code if len(brands) == 1 else ""),
            email=request.form.get("email", ""),
        ),
        status,
        headers or {},
    )


@bp.post("/logout")
def logout():
    end_sessions(g.ops_user)  # this cookie, and any copy of it, no longer signs anyone in
    g.db.commit()
    session.clear()
    return redirect(url_for("ops.login"))


@bp.get("/")
def index():
    return redirect(url_for("ops.alerts"))


def _filter_value(name: str) -> str | None:
    """A value from the query string if it can be one (anything else shows everything)."""
    value = request.args.get(name) or None
    allowed = {"kind": KINDS, "severity": SEVERITIES, "status": STATUS_CHOICES}.get(name)
    if value is None or (value in allowed if allowed else TOKEN.match(value)):
        return value
    return None


@bp.get("/alerts")
def alerts():
    filters = {name: _filter_value(name) for name in FILTERS}
    status = filters.pop("status") or alert_store.UNRESOLVED
    statement = alert_store.alert_query(
        g.ops_user.brand_id, **filters, status=None if status == "all" else status
    )
    if TOKEN.match(request.args.get("id", "")):
        statement = statement.where(Alert.id == request.args["id"])
    if request.args.get("cursor"):
        try:
            created_at, alert_id = decode_cursor(request.args["cursor"])
        except ApiProblem:
            abort(400, "This cursor was not issued here; start from the first page.")
        statement = statement.where(
            (Alert.created_at < created_at)
            | ((Alert.created_at == created_at) & (Alert.id < alert_id))
        )
    rows = list(
        g.db.scalars(
            statement.order_by(Alert.created_at.desc(), Alert.id.desc()).limit(PAGE_SIZE + 1)
        )
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    carriers = g.db.scalars(
        select(Alert.carrier)
        .distinct()
        .where(Alert.brand_id == g.ops_user.brand_id, Alert.carrier.is_not(None))
    ).all()
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "cursor"}
    return render_template(
        "ops/alerts.html",
        alerts=rows,
        filters={**filters, "status": status},
        choices={
            "kind": KINDS,
            "severity": SEVERITIES,
            "carrier": sorted(carriers),
            "status": STATUS_CHOICES,
        },
        next_url=url_for(
            "ops.alerts", **args, cursor=encode_cursor(rows[-1].created_at, rows[-1].id)
        )
        if more
        else None,
    )


def _brand_alert(alert_id: str) -> Alert:
    alert = TOKEN.match(alert_id) and g.db.scalar(
        select(Alert).where(Alert.id == alert_id, Alert.brand_id == g.ops_user.brand_id)
    )
    if not alert:
        abort(404, "No alert with this id exists for your brand.")
    return alert


@bp.post("/alerts/<alert_id>/<any(acknowledge, resolve):action>")
def act(alert_id: str, action: str):
    alert = _brand_alert(alert_id)
    step = alert_store.acknowledge if action == "acknowledge" else alert_store.resolve
    try:
        step(alert, g.ops_user.email, g.runtime.clock.now())
    except alert_store.AlertStateError as exc:
        abort(409, str(exc))
    g.db.commit()
    return redirect(_safe_next(request.form.get("next")))


@bp.get("/performance")
def performance():
    now = g.runtime.clock.now()
    weeks = min(max(request.args.get("weeks", 8, type=int), 2), 52)
    brand_id = g.ops_user.brand_id
    charts = []
    for title, by_lane in (
        ("On-time share per carrier", False),
        ("On-time share of the busiest lanes", True),
    ):
        series = on_time_by_week(
            g.db, brand_id, now, weeks, by_lane=by_lane, settings=g.runtime.settings
        )
        charts.append((title, share_chart(title, series), share_rows(series)))
    return render_template("ops/performance.html", weeks=weeks, charts=charts)


def _queue_filter() -> QueueFilter:
    """The failed-delivery queue's filters from the query string (a bad value is ignored)."""
    args = request.args
    return QueueFilter(
        carrier=_filter_value("carrier"),
        reason=_filter_value("reason"),
        min_attempts=args.get("attempts", type=int),
        cod_only=args.get("payment") == "cod",
        min_value=args.get("value", type=int),
    )


@bp.get("/failed-deliveries")
def failed_deliveries():
    """Failed deliveries that need a person (the carrier lacks the action or refused it, or
    the customer never answered), with the per-carrier figures; `?risk=cod`: the
    cash-on-delivery parcels at risk of return to origin instead. Filters narrow either."""
    cod_at_risk = request.args.get("risk") == "cod"
    narrowed = _queue_filter()
    metrics = ndr_metrics(g.db, g.ops_brand.id)
    rows = failed_delivery_queue(
        g.db, g.ops_brand.id, QUEUE_SIZE, cod_at_risk=cod_at_risk, narrowed=narrowed
    )
    return render_template(
        "ops/failed_deliveries.html",
        cases=rows,
        cod_at_risk=cod_at_risk,
        narrowed=narrowed,
        carriers=sorted(m["carrier"] for m in metrics),
        reasons=sorted(r.value for r in Reason),
        people=ops_cases.brand_people(g.db, g.ops_brand.id),
        metrics=metrics,
    )


@bp.post("/failed-deliveries/<case_id>/assign")
def assign(case_id: str):
    case = TOKEN.match(case_id) and g.db.scalar(
        select(NdrCaseRow).where(NdrCaseRow.id == case_id, NdrCaseRow.brand_id == g.ops_brand.id)
    )
    if not case:
        abort(404, "No failed delivery with this id exists for your brand.")
    try:
        ops_cases.assign_case(
            g.db, case, request.form.get("assignee") or None, g.ops_user.email, _now()
        )
    except ops_cases.UnknownAssignee as exc:
        abort(400, f"{exc}; choose a person from the list.")
    g.db.commit()
    return redirect(_safe_next(request.form.get("next")))


@bp.get("/search")
def search():
    query = request.args.get("q", "")[:254]
    return render_template(
        "ops/search.html", query=query, results=ops_cases.search(g.db, g.ops_brand.id, query)
    )


@bp.get("/shipments/<shipment_id>")
def shipment(shipment_id: str):
    found = TOKEN.match(shipment_id) and ops_cases.shipment_file(g.db, g.ops_brand.id, shipment_id)
    if not found:
        abort(404, "No shipment with this id exists for your brand.")
    return render_template(
        "ops/shipment.html",
        file=found,
        actions=ops_cases.ACTIONS,
        carrier=carrier_contact(found.shipment.carrier),
    )


@bp.post("/shipments/<shipment_id>/actions")
def shipment_action(shipment_id: str):
    found = TOKEN.match(shipment_id) and ops_cases.brand_shipment(g.db, g.ops_brand.id, shipment_id)
    if not found:
        abort(404, "No shipment with this id exists for your brand.")
    action = request.form.get("action", "")
    if action not in ops_cases.ACTIONS:
        abort(400, f"Choose an action: {', '.join(ops_cases.ACTIONS)}.")
    remedy = REMEDIES.get(action)
    note, actor = request.form.get("note", ""), g.ops_user.email
    try:
        if remedy:
            remedy(g.db, g.runtime, found, actor, note, _now())
        else:
            ops_cases.record_action(g.db, found, actor, action, note, _now())
    except ops_remedies.RemedyRefused as exc:
        abort(409, f"Not done: {exc}.")
    except (NotAllocated, PurchasePending) as exc:
        abort(409, f"No replacement label was bought: {exc}. Fix it, then try again.")
    except CarrierError as exc:
        abort(502, f"The carrier refused the replacement label: {exc}. Try again later.")
    g.db.commit()
    return redirect(url_for("ops.shipment", shipment_id=found.id))


@bp.get("/shipments/<shipment_id>/proof-photo")
def proof_photo(shipment_id: str):
    """The carrier's delivery photo, for ops judging a claim (never cached anywhere)."""
    found = TOKEN.match(shipment_id) and ops_cases.brand_shipment(g.db, g.ops_brand.id, shipment_id)
    photo = found and proof_of_delivery.photo_of(g.db, found.id)
    if not photo:
        abort(404, "No delivery photo for this shipment.")
    return photo.data, 200, {"Content-Type": photo.media_type, "Cache-Control": "private, no-store"}


@bp.get("/claims")
def claims_queue():
    """Customers' "I didn't get it" claims, open ones first by default (`?state=`)."""
    state = request.args.get("state", claims.OPEN)
    state = state if state in CLAIM_STATES else claims.OPEN
    rows = claims.claims_queue(g.db, g.ops_brand.id, None if state == "all" else state, QUEUE_SIZE)
    return render_template("ops/claims.html", rows=rows, state=state, states=CLAIM_STATES)


def _now():
    return g.runtime.clock.now()
