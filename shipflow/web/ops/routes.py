"""The ops pages at /ops: a login per brand, the alerts list with acknowledge/resolve, the
failed deliveries waiting for a person, and on-time charts. Every query is scoped by the
logged-in user's brand."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from shipflow.delays import alerts as alert_store
from shipflow.delays.config import KINDS, SEVERITIES
from shipflow.delays.performance import on_time_by_week
from shipflow.ndr.service import failed_delivery_queue, ndr_metrics
from shipflow.ops_users import USER_ID, authenticate, end_sessions, sign_in, signed_in_user
from shipflow.store.models import Alert, Brand
from shipflow.web.api.pagination import decode_cursor, encode_cursor
from shipflow.web.csrf import check_csrf, csrf_token
from shipflow.web.ops import throttle
from shipflow.web.ops.presenter import share_chart
from shipflow.web.problems import ApiProblem

bp = Blueprint("ops", __name__, url_prefix="/ops", template_folder="templates")
PAGE_SIZE = 50
QUEUE_SIZE = 200  # failed deliveries shown
FILTERS = ("kind", "severity", "carrier", "status")
STATUS_CHOICES = (alert_store.UNRESOLVED, *alert_store.STATUSES, "all")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


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
    return render_template(
        "ops/performance.html",
        weeks=weeks,
        carrier_chart=share_chart(
            "On-time share per carrier",
            on_time_by_week(g.db, brand_id, now, weeks, settings=g.runtime.settings),
        ),
        lane_chart=share_chart(
            "On-time share of the busiest lanes",
            on_time_by_week(g.db, brand_id, now, weeks, by_lane=True, settings=g.runtime.settings),
        ),
    )


@bp.get("/failed-deliveries")
def failed_deliveries():
    """Failed deliveries that need a person (the carrier lacks the action or refused it, or
    the customer never answered), with the per-carrier figures; `?risk=cod`: the
    cash-on-delivery parcels at risk of return to origin instead."""
    cod_at_risk = request.args.get("risk") == "cod"
    rows = failed_delivery_queue(g.db, g.ops_brand.id, QUEUE_SIZE, cod_at_risk=cod_at_risk)
    return render_template(
        "ops/failed_deliveries.html",
        cases=rows,
        cod_at_risk=cod_at_risk,
        metrics=ndr_metrics(g.db, g.ops_brand.id),
    )
