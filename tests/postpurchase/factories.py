"""The demo brand with an API key, a delivered order and a shipment that failed delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shipflow.api_keys import create_api_key
from shipflow.brands import sync_brand
from shipflow.store.db import unit_of_work
from shipflow.store.models import Order, OrderLine, Shipment
from tests.conftest import configure_brand

BRAND = "northwind"
EMAIL = "parisa@example.com"
POSTAL = "62704"


@dataclass
class Demo:
    brand_id: str
    headers: dict[str, str]


def demo_brand(runtime, store_webhook_url: str = "", secret: str = "store-secret") -> Demo:
    config = runtime.settings.brand(BRAND)
    if store_webhook_url:
        returns = config.returns.model_copy(
            update={"store_webhook_url": store_webhook_url, "store_webhook_secret": secret}
        )
        config = configure_brand(runtime, BRAND, returns=returns)
    with unit_of_work(runtime.sessions) as session:
        brand = sync_brand(session, config)
        key = create_api_key(session, brand.id, "test")
        return Demo(brand.id, {"Authorization": f"Bearer {key}"})


def order(
    runtime,
    brand_id: str,
    number: str = "NW-1001",
    status: str = "delivered",
    delivered_days_ago: float = 3,
    language: str = "en",
    phone: str = "",
    tracking_number: str = "SBXG00000000000000000000",
    lines: tuple[tuple[str, int, int], ...] = (("LANTERN", 2, 3900), ("MUG", 1, 1400)),
) -> tuple[str, str]:
    """An order shipped by the sandbox carrier; returns (order id, shipment id)."""
    now: datetime = runtime.clock.now()
    names = {p.sku: p.name for p in runtime.settings.brand(BRAND).products}
    with unit_of_work(runtime.sessions) as session:
        row = Order(
            brand_id=brand_id,
            order_number=number,
            customer_name="Parisa Rahimi",
            customer_email=EMAIL,
            customer_phone=phone,
            ship_to={
                "name": "Parisa Rahimi",
                "line1": "742 Evergreen Terrace",
                "city": "Springfield",
                "state": "IL",
                "postal_code": POSTAL,
                "country": "US",
            },
            currency="USD",
            language=language,
            placed_at=now - timedelta(days=delivered_days_ago + 4),
            lines=[
                OrderLine(sku=s, name=names.get(s, ""), quantity=q, unit_price=p)
                for s, q, p in lines
            ],
        )
        shipment = Shipment(
            brand_id=brand_id,
            order=row,
            carrier="sandbox",
            carrier_account="sandbox-main",
            service="ground",
            tracking_number=tracking_number,
            warehouse_code="EWR",
            status=status,
            delivered_at=now - timedelta(days=delivered_days_ago)
            if status == "delivered"
            else None,
        )
        session.add_all([row, shipment])
        session.flush()
        return row.id, shipment.id


def postpurchase_objects(runtime, order_id: str, shipment_id: str) -> dict[str, str]:
    """A failed-delivery case, a return and a feedback answer on a delivered shipment of the
    order (for tenancy tests); returns their ids by API resource name."""
    from shipflow import feedback
    from shipflow.domain import Reason
    from shipflow.ndr.service import NdrService
    from shipflow.returns.service import ItemChoice, request_return
    from shipflow.store.postpurchase_models import ReturnPhotoRow
    from tests.fakes import RecordingCarrier

    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get(Shipment, shipment_id)
        ndr = NdrService(session, runtime.settings, lambda s: RecordingCarrier())
        case = ndr.on_attempt_failed(shipment, Reason.CUSTOMER_UNAVAILABLE, now)
        shipment.status, shipment.delivered_at = "delivered", now
        feedback.record(session, shipment, 9, "", "en", now)
        order = session.get(Order, order_id)
        sku = order.lines[0].sku
        photo = ReturnPhotoRow(brand_id=order.brand_id, content_type="image/png", data=b"\x89PNG")
        session.add(photo)
        session.flush()
        choice = ItemChoice(sku, 1, "changed_mind", (photo.id,))
        request = request_return(session, order, [choice], now, "en", runtime.settings)
        return {"ndr-cases": case.id, "returns": request.id, "return-photos": photo.id}
