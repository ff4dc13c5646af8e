"""The post-purchase services built for one runtime and session: which carrier adapter a
shipment uses, where returns go. The web pages, the API and the jobs share these."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from babel import UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision
from sqlalchemy.orm import Session

from shipflow.ndr.service import NdrService
from shipflow.returns import service as returns
from shipflow.returns.eligibility import Verdict
from shipflow.store.models import Brand, Order, Shipment
from shipflow.store.postpurchase_models import ReturnRequestRow

if TYPE_CHECKING:
    from shipflow.runtime import Runtime


def brand_code(session: Session, brand_id: str) -> str:
    return session.get_one(Brand, brand_id).code


def ndr_service(runtime: Runtime, session: Session) -> NdrService:
    def carrier_for(shipment: Shipment):
        return runtime.carriers.of_shipment(
            brand_code(session, shipment.brand_id), shipment.carrier, shipment.carrier_account
        )

    return NdrService(session, runtime.settings, carrier_for, runtime.clock)


def issue_return_label(
    runtime: Runtime,
    session: Session,
    request: ReturnRequestRow,
    now: datetime,
    send_back: returns.SendBack | None = None,
) -> Shipment:
    """The prepaid label back to the shipping warehouse: the cheapest among the brand's
    carriers, or the way the customer chose (`send_back`)."""
    code = brand_code(session, request.brand_id)
    order = session.get_one(Order, request.order_id)
    return returns.issue_label(
        session,
        runtime.settings,
        request,
        runtime.carriers.of_brand(code),
        returns.return_address(runtime.settings, code, session, order),
        now,
        send_back,
    )


def submit_return(
    runtime: Runtime,
    session: Session,
    order: Order,
    choices: Sequence[returns.ItemChoice],
    language: str,
    buy_label: bool = True,
) -> ReturnRequestRow:
    """The customer's return, judged; approved, its label is bought at once (unless the
    customer still chooses how to send it back: `buy_label` false), and if no carrier can
    issue one a person arranges it (the return goes to review)."""
    now = runtime.clock.now()
    request = returns.request_return(session, order, choices, now, language, runtime.settings)
    if buy_label and request.status == Verdict.APPROVED.value:
        try:
            issue_return_label(runtime, session, request, now)
        except returns.ReturnError:
            request.status = Verdict.REVIEW.value
    return request


def money_text(language: str):
    """`amount_text` for refund messages: money written the customer's way (Babel)."""
    locale = language.replace("-", "_")

    def write(minor_units: int, currency: str) -> str:
        amount = minor_units / 10 ** get_currency_precision(currency)
        try:
            return format_currency(amount, currency, locale=locale)
        except (UnknownLocaleError, ValueError):
            return format_currency(amount, currency, locale="en")

    return write
