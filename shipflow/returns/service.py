"""Returns on the database: find the order without revealing whether it exists, judge the
request, issue a prepaid label from the cheapest eligible carrier, and tell the store when the
parcel is first scanned and when it arrives (signed webhooks through the outbox)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carriers.base import Capability, Carrier, CarrierError, ShipmentRequest
from shipflow import customer_messages as customer
from shipflow import label_purchases
from shipflow.brands import brand_config
from shipflow.channel_accounts import refunds_in_shop
from shipflow.clock import Clock, FixedClock
from shipflow.config import Settings
from shipflow.domain import Address, Money, Parcel, Status
from shipflow.domain.events import ShopRefund, StoreWebhook
from shipflow.links import make_token
from shipflow.notify.templates import Milestone
from shipflow.orders import orders_numbered, ship_to_address
from shipflow.returns.eligibility import Decision, ItemRequest, ReturnPolicy, Verdict, decide
from shipflow.signatures import same_secret
from shipflow.store.models import Brand, Order, Shipment
from shipflow.store.outbox import publish
from shipflow.store.postpurchase_models import LabelRow, ReturnItemRow, ReturnRequestRow

LABEL_PURPOSE = "return-label"
RETURN_PURPOSE = "return"


class ReturnError(Exception):
    """A request that cannot go further; the message is for the customer or the operator."""


@dataclass(frozen=True, slots=True)
class ItemChoice:
    sku: str
    quantity: int
    reason: str
    photos: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SendBack:
    """The way back the customer chose instead of the cheapest label: one carrier account's
    return service (a store chain's drop-off, a courier pickup), the mobile number the carrier
    texts, and the store they said they will take it to (shown on their page only: any store
    of the chain takes the parcel)."""

    account: str
    service: str
    phone: str = ""
    store: dict[str, str] = field(default_factory=dict)


def _same(a: str, b: str) -> bool:
    return same_secret(a.strip().casefold(), b.strip().casefold())


def _postal(code: str) -> str:
    return code.replace(" ", "").replace("-", "").upper()


def find_order(
    session: Session, brand_id: str, order_number: str, email_or_postal_code: str
) -> Order | None:
    """The order if the number and the e-mail (or ship-to postal code) match; else None, the
    same answer whether the order exists or not."""
    secret = email_or_postal_code.strip()
    if not secret:
        return None
    for order in orders_numbered(session, brand_id, order_number):
        postal = _postal((order.ship_to or {}).get("postal_code", ""))
        if _same(order.customer_email, secret) or (postal and _same(postal, _postal(secret))):
            return order
    return None


def policy_for(session: Session, brand_id: str, settings: Settings) -> ReturnPolicy:
    brand = brand_config(session, brand_id, settings)
    if brand is None:
        return ReturnPolicy()
    final_sale = frozenset(p.sku for p in brand.products if p.final_sale)
    return ReturnPolicy.from_config(brand.returns.model_dump(), final_sale)


def delivered_at(session: Session, order: Order) -> datetime | None:
    return session.scalar(
        select(func.max(Shipment.delivered_at)).where(
            Shipment.order_id == order.id, Shipment.kind == "forward"
        )
    )


def _already_returned(session: Session, order: Order) -> dict[str, int]:
    rows = session.execute(
        select(ReturnItemRow.sku, func.sum(ReturnItemRow.quantity))
        .join(ReturnRequestRow)
        .where(
            ReturnRequestRow.order_id == order.id,
            ReturnItemRow.accepted.is_(True),
            ReturnRequestRow.status != "refused",
        )
        .group_by(ReturnItemRow.sku)
    )
    return {sku: int(total) for sku, total in rows}


def judge(
    session: Session,
    order: Order,
    choices: Sequence[ItemChoice],
    now: datetime,
    settings: Settings,
) -> Decision:
    lines = {line.sku: line for line in order.lines}
    returned = _already_returned(session, order)
    requests = [
        ItemRequest(
            sku=choice.sku,
            quantity=choice.quantity,
            reason=choice.reason,
            unit_price=lines[choice.sku].unit_price if choice.sku in lines else 0,
            ordered_quantity=lines[choice.sku].quantity if choice.sku in lines else 0,
            already_returned=returned.get(choice.sku, 0),
            photos=len(choice.photos),
        )
        for choice in choices
    ]
    policy = policy_for(session, order.brand_id, settings)
    return decide(policy, requests, delivered_at(session, order), now)


def request_return(
    session: Session,
    order: Order,
    choices: Sequence[ItemChoice],
    now: datetime,
    language: str,
    settings: Settings,
) -> ReturnRequestRow:
    decision = judge(session, order, choices, now, settings)
    refused = {r.sku: r.code for r in decision.refusals}
    photos = {c.sku: list(c.photos) for c in choices}
    row = ReturnRequestRow(
        brand_id=order.brand_id,
        order_id=order.id,
        status=decision.verdict.value,
        decision={
            "why": decision.why,
            "refusals": [
                {"sku": r.sku, "code": r.code, "params": {k: str(v) for k, v in r.params.items()}}
                for r in decision.refusals
            ],
        },
        refund_amount=decision.refund_amount,
        currency=order.currency,
        language=language,
        items=[
            ReturnItemRow(
                sku=c.sku,
                quantity=c.quantity,
                reason=c.reason,
                unit_price=next((i.unit_price for i in decision.accepted if i.sku == c.sku), 0),
                accepted=c.sku not in refused,
                refusal=refused.get(c.sku),
                photos=photos.get(c.sku, []),
            )
            for c in choices
        ],
    )
    session.add(row)
    session.flush()
    return row


def cheapest_return_carrier(
    carriers: Sequence[Carrier], request: ShipmentRequest
) -> tuple[Carrier, str]:
    """Quote every carrier that issues return labels: the cheapest one and its service."""
    quotes = []
    for carrier in carriers:
        if not carrier.supports(Capability.RETURN_LABELS):
            continue
        try:
            rates = carrier.rates(request) if carrier.supports(Capability.RATES) else []
        except CarrierError:
            continue
        quotes += [(rate.price.amount, rate.service, carrier) for rate in rates]
    if not quotes:
        raise ReturnError("no carrier can issue a return label for this order")
    _, service, carrier = min(quotes, key=lambda q: q[0])
    return carrier, service


def _chosen_carrier(carriers: Sequence[Carrier], send_back: SendBack) -> Carrier:
    for carrier in carriers:
        if carrier.account.account_id == send_back.account and carrier.supports(
            Capability.RETURN_LABELS
        ):
            return carrier
    raise ReturnError(f"no carrier account {send_back.account!r} issues return labels")


def return_path(settings: Settings, brand_code: str, return_id: str, clock: Clock) -> str:
    """The customer's signed page of one return: its state, label and QR code."""
    token = make_token(settings.signing_key("links"), RETURN_PURPOSE, return_id, clock)
    return f"/returns/{brand_code}/r/{token}"


def label_link(settings: Settings, label_id: str, clock: Clock) -> str:
    """The label's signed link, aged on the runtime's clock like every customer link."""
    token = make_token(settings.signing_key("links"), LABEL_PURPOSE, label_id, clock)
    return f"{settings.base_url}/returns/label/{token}"


def issue_label(
    session: Session,
    settings: Settings,
    request: ReturnRequestRow,
    carriers: Sequence[Carrier],
    warehouse: Address,
    now: datetime,
    send_back: SendBack | None = None,
) -> Shipment:
    """Buy the label (the cheapest, or the way the customer chose), open the return shipment
    (tracked like any other) and tell the customer."""
    if request.status != Verdict.APPROVED.value:
        raise ReturnError(f"return {request.id} is {request.status}, not approved")
    order = session.get_one(Order, request.order_id)
    ship_to = order.ship_to or {}
    customer_address = ship_to_address(order)
    weight = max(500, 500 * sum(i.quantity for i in request.items if i.accepted))
    wanted = ShipmentRequest(
        shipper=customer_address,
        recipient=warehouse,
        parcels=[Parcel(weight_g=weight)],
        service="",
        reference=f"RMA {request.id}",
        is_return=True,
    )
    if send_back is None:
        carrier, service = cheapest_return_carrier(carriers, wanted)
    else:
        carrier, service = _chosen_carrier(carriers, send_back), send_back.service
        wanted = replace(
            wanted,
            shipper=replace(customer_address, phone=send_back.phone or customer_address.phone),
            declared_value=Money(request.refund_amount, request.currency),
        )
    account = carrier.account.account_id
    label = label_purchases.buy(
        session,
        label_purchases.Purchase(request.brand_id, order.id, account, return_id=request.id),
        now,
        lambda: carrier.create_return_label(replace(wanted, service=service)),
    )
    shipment = Shipment(
        brand_id=request.brand_id,
        order_id=order.id,
        kind="return",
        carrier=label.carrier,
        carrier_account=account,
        next_poll_at=now,  # tracked like any shipment: its first scan moves the return on
        service=label.service,
        tracking_number=label.tracking_number,
        cost_amount=label.price.amount if label.price else None,
        cost_currency=label.price.currency if label.price else None,
        details={"return_id": request.id}
        | ({"drop_off_store": send_back.store} if send_back and send_back.store else {}),
    )
    session.add(shipment)
    session.flush()
    stored = LabelRow(
        brand_id=request.brand_id,
        shipment_id=shipment.id,
        label_format=label.label_format,
        data=label.label_data,
    )
    session.add(stored)
    if label.qr_code:
        session.add(
            LabelRow(
                brand_id=request.brand_id,
                shipment_id=shipment.id,
                label_format="QR",
                data=label.qr_code,
            )
        )
    session.flush()
    request.status, request.shipment_id = "label_created", shipment.id
    shipment.label_url = label_link(settings, stored.id, FixedClock(now))
    customer.queue(
        session,
        brand=session.get_one(Brand, request.brand_id),
        order=order,
        milestone=Milestone.RETURN_APPROVED,
        context={"label_link": shipment.label_url},
        now=now,
        customer_zone=customer.zone_for(ship_to),
        settings=settings,
        shipment_id=shipment.id,
    )
    return shipment


def on_return_shipment_status(
    session: Session, shipment: Shipment, status: Status, now: datetime, settings: Settings
) -> None:
    """First scan -> the store may refund; delivered to the warehouse -> received."""
    request = session.scalar(
        select(ReturnRequestRow).where(ReturnRequestRow.shipment_id == shipment.id)
    )
    if request is None:
        return
    order = session.get_one(Order, request.order_id)
    if status in (Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY) and request.status == "label_created":
        request.status = "in_transit"
        _store_webhook(session, request, order, "return.in_transit", settings)
    elif status is Status.DELIVERED and request.status in ("label_created", "in_transit"):
        request.status = "received"
        if refunds_in_shop(session, order, settings):
            publish(session, ShopRefund(brand_id=request.brand_id, return_id=request.id))
        else:
            _store_webhook(session, request, order, "return.received", settings)
        customer.queue(
            session,
            brand=session.get_one(Brand, request.brand_id),
            order=order,
            milestone=Milestone.RETURN_RECEIVED,
            context={},
            now=now,
            customer_zone=customer.zone_for(order.ship_to or {}),
            settings=settings,
            shipment_id=shipment.id,
        )


def mark_refunded(
    session: Session,
    request: ReturnRequestRow,
    now: datetime,
    amount_text: Callable[[int, str], str],
    settings: Settings,
) -> None:
    """The store says it refunded: tell the customer once."""
    if request.status == "refunded":
        return
    request.status = "refunded"
    order = session.get_one(Order, request.order_id)
    customer.queue(
        session,
        brand=session.get_one(Brand, request.brand_id),
        order=order,
        milestone=Milestone.REFUND_ISSUED,
        context={"amount": amount_text(request.refund_amount, request.currency)},
        now=now,
        customer_zone=customer.zone_for(order.ship_to or {}),
        settings=settings,
        shipment_id=request.shipment_id,
    )


def _store_webhook(
    session: Session, request: ReturnRequestRow, order: Order, event: str, settings: Settings
) -> None:
    brand = brand_config(session, request.brand_id, settings)
    url = brand.returns.store_webhook_url if brand else ""
    if not url:
        return
    data = {
        "return_id": request.id,
        "order_number": order.order_number,
        "refund_amount": request.refund_amount,
        "currency": request.currency,
        "items": [
            {"sku": i.sku, "quantity": i.quantity, "reason": i.reason}
            for i in request.items
            if i.accepted
        ],
    }
    publish(
        session,
        StoreWebhook(
            brand_id=request.brand_id, subject_id=request.id, event=event, url=url, data=data
        ),
    )


def return_address(settings: Settings, brand_code: str, session: Session, order: Order) -> Address:
    """Returns go back to the warehouse that shipped the order, else the brand's first one."""
    brand = settings.brand(brand_code)
    if brand is None:
        raise LookupError(f"brand {brand_code!r} is not in the configuration")
    shipped_from = session.scalar(
        select(Shipment.warehouse_code).where(
            Shipment.order_id == order.id, Shipment.kind == "forward"
        )
    )
    warehouse = next((w for w in brand.warehouses if w.code == shipped_from), brand.warehouses[0])
    address = warehouse.to_domain().address
    # The warehouse's sender name where a carrier needs one in its own form (ECPay's 2-5
    # Chinese characters), else the brand's.
    return replace(address, name=address.name or brand.name, line1=address.line1 or warehouse.name)


def review(request: ReturnRequestRow, approve: bool, note: str = "") -> None:
    """A person's decision on a return waiting for review."""
    if request.status != Verdict.REVIEW.value:
        raise ReturnError(f"return {request.id} is {request.status}; only returns in review")
    request.status = (Verdict.APPROVED if approve else Verdict.REFUSED).value
    request.decision = {**request.decision, "reviewed": "approved" if approve else "refused"}
    if note:
        request.decision["note"] = note


def returnable_lines(session: Session, order: Order) -> list[tuple[str, str, int, int]]:
    """(sku, name, quantity left to return, unit price) of a delivered order; empty before
    delivery or when everything went back already."""
    if delivered_at(session, order) is None:
        return []
    returned = _already_returned(session, order)
    lines = [
        (line.sku, line.name, line.quantity - returned.get(line.sku, 0), line.unit_price)
        for line in order.lines
    ]
    return [line for line in lines if line[2] > 0]
