"""SQLAlchemy 2.0 typed models. Every brand-owned row carries `brand_id`: every query is
scoped by it. Times are stored as UTC and always come back time-zone aware."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.engine.interfaces import ExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shipflow.store.db import NOW_OPTION


class UTCDateTime(TypeDecorator):
    """Stores UTC, returns aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow(context: ExecutionContext) -> datetime:
    """The time column defaults (`created_at`, `updated_at`, ...) stamp: the runtime's clock,
    carried by its engine (`shipflow.store.db.stamp_times_with`), so rows written on the demo's
    or a test's clock agree with the times the services compare them to; the wall clock on an
    engine no runtime owns (migrations)."""
    now = context.execution_options.get(NOW_OPTION)
    return now() if now is not None else datetime.now(UTC)


def new_id(prefix: str):
    """Public ids are random (`ord_…`), so they reveal nothing and cannot be enumerated."""
    return lambda: f"{prefix}_{secrets.token_hex(10)}"


# Given at once by `Fulfilment.ship`: its first prediction names the shipment before the one
# flush that inserts it with its promise.
new_shipment_id = new_id("shp")
# Likewise by `orders.create_order`: a batch's orders are named (plans, alerts) before their
# one flush.
new_order_id = new_id("ord")

# The tables whose rows workers claim (shipflow.store.lease) leave half of each page free, so
# that a claim's new version fits beside the old one (a HOT update: no index entry written);
# with 70, half the claims found no room (docs/benchmarks.md, "rows and index entries").
LEASED_FILLFACTOR = {"fillfactor": 50}
# A shipment is updated at each of its events with no indexed column changed (the poll's time
# is left where it is: shipflow.tracking.polling): half of each page left free holds the new
# versions (HOT) of parcels scanned together, updated in one batch's transaction, until
# pruning clears the old ones; with 80, three in four found no room (docs/benchmarks.md).
SHIPMENT_FILLFACTOR = {"fillfactor": 50}

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


def table_of(model: type[Base]) -> Table:
    """The Core table behind a mapped class, typed as one: SQLAlchemy types `__table__` as a
    `FromClause`, and the hot paths' bulk statements need the `Table`."""
    return cast(Table, model.__table__)


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("brd"))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("key"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Warehouse(Base):
    __tablename__ = "warehouses"
    __table_args__ = (UniqueConstraint("brand_id", "code"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("whs"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str] = mapped_column(String(16))
    latitude: Mapped[float]
    longitude: Mapped[float]
    timezone: Mapped[str] = mapped_column(String(64))
    stock: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CarrierAccount(Base):
    __tablename__ = "carrier_accounts"
    __table_args__ = (UniqueConstraint("brand_id", "code"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("cac"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    carrier: Mapped[str] = mapped_column(String(32))
    sandbox: Mapped[bool] = mapped_column(Boolean, default=True)


class ChannelAccount(Base):
    """A brand's shop on a sales channel. Credentials come from config.yaml or, when the shop
    was connected through the API, the CLI or an app install, from `credentials`: a Fernet
    token (`shipflow.secrets_at_rest`), never plain text. A shop belongs to one brand."""

    __tablename__ = "channel_accounts"
    __table_args__ = (
        UniqueConstraint("brand_id", "code"),
        Index("ux_channel_accounts_shop", "channel", "shop", unique=True),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("chn"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    shop: Mapped[str] = mapped_column(String(255))
    # Migration channels_core_1: connecting through the API, reconciliation's cursor.
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    credentials: Mapped[str | None] = mapped_column(Text)  # encrypted JSON object
    sync_cursor: Mapped[str | None] = mapped_column(String(1024))
    sync_after: Mapped[datetime | None]  # the platform throttled us: not before then


class ChannelDelivery(Base):
    """A shop webhook delivery already acted on: the platform retries with the same id."""

    __tablename__ = "channel_deliveries"
    __table_args__ = (UniqueConstraint("account_id", "delivery_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    account_id: Mapped[str] = mapped_column(ForeignKey("channel_accounts.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("brand_id", "order_number"),
        Index("ix_orders_brand_created", "brand_id", "created_at", "id"),
        # A shop's order is imported once, however often its webhook arrives.
        Index("ux_orders_source", "source_account", "source_order_id", unique=True),
        # The ops search finds an order by the customer's e-mail or phone (ops_1).
        Index("ix_orders_brand_email", "brand_id", "customer_email"),
        Index("ix_orders_brand_phone", "brand_id", "customer_phone"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_order_id)
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    order_number: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    customer_email: Mapped[str] = mapped_column(String(254), default="")
    customer_phone: Mapped[str] = mapped_column(String(40), default="")
    ship_to: Mapped[dict[str, Any]] = mapped_column(default=dict)
    currency: Mapped[str] = mapped_column(String(3))
    total_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    language: Mapped[str] = mapped_column(String(16), default="en")
    promised_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    source_account: Mapped[str | None] = mapped_column(String(40))  # ChannelAccount.id
    source_order_id: Mapped[str | None] = mapped_column(String(64))  # the shop's own id
    # Migration channels_core_1: a shop order's state as the shop last told it.
    source_updated_at: Mapped[datetime | None]  # older notices than this are ignored
    paid: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    cancelled_at: Mapped[datetime | None]
    attention: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")  # problems
    source_details: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    # Collected by the driver or store, minor units of `currency`; 0: prepaid (pickup_cod_1).
    cash_on_delivery: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    pickup_point: Mapped[dict[str, Any] | None]  # a store chosen at checkout (`pickup_points`)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.position"
    )
    shipments: Mapped[list[Shipment]] = relationship(back_populates="order")


# What the outbox's handlers never read of the orders they load with a batch's shipments:
# deferred there, not JSON decoded for nothing on every row (loaded on first access, should
# anything ever read them).
UNREAD_ORDER_COLUMNS = (Order.attention, Order.source_details, Order.pickup_point)


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")


CARRIER_ESTIMATE = "carrier_estimated_delivery"  # Shipment.details key


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (
        Index("ix_shipments_brand_created", "brand_id", "created_at", "id"),
        # By number: the ingest's look-up (carrier known), the tracking page's and ops' search
        # (brand known, carrier not). One index for all: a number is nearly unique, and each
        # index is one more entry written at every (non-HOT) update of the row.
        Index("ix_shipments_tracking_number", "tracking_number"),
        Index("ix_shipments_next_poll", "next_poll_at"),
        # an order's parcels, which each outbox batch reads for its orders (and SET NULL)
        Index("ix_shipments_order_id", "order_id"),
        # the backlog count's parcels (shipflow.edd.backlog): those delivered within its
        # window or on the days it totals, and those in flight, by creation
        Index("ix_shipments_brand_delivered", "brand_id", "delivered_at"),
        Index(
            "ix_shipments_brand_in_flight",
            "brand_id",
            "created_at",
            postgresql_where=text("delivered_at IS NULL"),
            sqlite_where=text("delivered_at IS NULL"),
        ),
        {"postgresql_with": SHIPMENT_FILLFACTOR},
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_shipment_id)
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default="forward")  # forward | return
    carrier: Mapped[str] = mapped_column(String(32))
    carrier_account: Mapped[str] = mapped_column(String(64), default="")
    service: Mapped[str] = mapped_column(String(64), default="")
    tracking_number: Mapped[str] = mapped_column(String(64), default="")
    warehouse_code: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(32), default="pending")
    status_reason: Mapped[str | None] = mapped_column(String(32))
    promised_date: Mapped[date | None] = mapped_column(Date)
    predicted_date: Mapped[date | None] = mapped_column(Date)
    label_url: Mapped[str] = mapped_column(String(500), default="")
    cost_amount: Mapped[int | None] = mapped_column(BigInteger)
    cost_currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_event_at: Mapped[datetime | None]
    next_poll_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Where it goes, kept on the row so lane statistics need no join (migration alerts_1).
    destination_state: Mapped[str] = mapped_column(String(64), default="", server_default="")
    destination_postal_code: Mapped[str] = mapped_column(String(16), default="", server_default="")
    # Where the parcel waits for the customer and until when, as the carrier last said.
    pickup_point: Mapped[dict[str, Any] | None]
    pickup_deadline: Mapped[datetime | None]
    # Subscribed to its carrier's pushes, or refused by it (details["push_refused"]): subs_1.
    push_subscribed_at: Mapped[datetime | None]

    order: Mapped[Order | None] = relationship(back_populates="shipments")
    parcels: Mapped[list[ParcelRow]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan"
    )
    events: Mapped[list[TrackingEventRow]] = relationship(
        back_populates="shipment",
        cascade="all, delete-orphan",
        order_by="TrackingEventRow.occurred_at",
    )

    @property
    def carrier_estimated_delivery(self) -> datetime | None:
        """The carrier's own estimate (Kuaidi100's arrival time, 17TRACK's window end), kept
        in `details` beside our `predicted_date`, never in its place."""
        value = (self.details or {}).get(CARRIER_ESTIMATE)
        return datetime.fromisoformat(value) if value else None


class ParcelRow(Base):
    __tablename__ = "parcels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    weight_g: Mapped[int] = mapped_column(Integer)
    length_mm: Mapped[int] = mapped_column(Integer, default=0)
    width_mm: Mapped[int] = mapped_column(Integer, default=0)
    height_mm: Mapped[int] = mapped_column(Integer, default=0)

    shipment: Mapped[Shipment] = relationship(back_populates="parcels")


class TrackingEventRow(Base):
    __tablename__ = "tracking_events"
    __table_args__ = (UniqueConstraint("shipment_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    # Found by the (shipment_id, dedupe_key) key, which leads with it: no index of its own.
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    # The shipment's brand, copied so reads of events by shipment check the brand without a
    # join: the ingest, the only writer, takes it from the shipment row, and the shipment's
    # foreign key deletes the events with it (so with its brand); a key of its own to `brands`
    # checked nothing more, at a look-up an event. No index: the learning jobs that read a
    # brand's events find them through its shipments, and an index took an entry an event.
    brand_id: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(32))
    raw_code: Mapped[str] = mapped_column(String(64), default="")
    raw_text: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(16), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    source: Mapped[str] = mapped_column(String(16), default="")  # webhook | poll | api
    applied: Mapped[bool] = mapped_column(Boolean, default=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    shipment: Mapped[Shipment] = relationship(back_populates="events")


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_brand_status", "brand_id", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("alr"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    shipment_id: Mapped[str | None] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    status: Mapped[str] = mapped_column(
        String(16), default="open"
    )  # open | acknowledged | resolved
    dedupe_key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Routing and the ops workflow (migration alerts_1).
    carrier: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(64))
    notified_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(254))
    resolved_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """A POST's response, kept so a retry with the same key returns it again; without a
    response yet, the claim of the request still running with the key."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("brand_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """Work that must follow a database change (notify, alert, push to a carrier), written in
    the same transaction as the change and done at least once by the job runner."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        # The claim's order over the pending messages alone (no sort of the backlog);
        # retention's look-up of the processed ones apart.
        Index(
            "ix_outbox_due",
            "available_at",
            "id",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
        Index(
            "ix_outbox_processed",
            "processed_at",
            postgresql_where=text("processed_at IS NOT NULL"),
            sqlite_where=text("processed_at IS NOT NULL"),
        ),
        {"postgresql_with": LEASED_FILLFACTOR},
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    brand_id: Mapped[str | None] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    leased_until: Mapped[datetime | None]  # a worker's claim (shipflow.store.lease)


# Feature modules add their tables to Base.metadata on import.
from shipflow.store import (  # noqa: E402,F401
    alert_models,
    allocation_models,
    claim_models,
    edd_models,
    feedback_models,
    label_models,
    ops_models,
    postpurchase_models,
    sandbox_models,
    tracking_models,
)
