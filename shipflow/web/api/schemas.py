"""Request and response schemas of the JSON API. The same models validate requests and
generate the OpenAPI document, so the two cannot disagree."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
)

from carriers.registry import available_carriers
from shipflow.domain import Status
from shipflow.postal.countries import validate_country
from shipflow.text import SingleLine

Text = Annotated[SingleLine, Field(max_length=200)]  # names, address lines: one line each
Country = Annotated[
    str,
    Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. US"),
    AfterValidator(validate_country),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. USD")]
MinorUnits = Annotated[int, Field(ge=0, le=10**12, description="integer minor units (cents)")]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value):
        """Text must be storable on every backend: no NUL, no lone UTF-16 surrogates."""
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("must not contain NUL (\\u0000) characters")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("must be valid UTF-8 text (no lone surrogates)") from None
        return value


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AddressIn(Input):
    name: Text = ""
    company: Text = ""
    line1: Text = ""
    line2: Text = ""
    city: Text = ""
    state: Annotated[SingleLine, Field(max_length=64)] = ""
    postal_code: Annotated[SingleLine, Field(min_length=1, max_length=16)]
    country: Country
    residential: bool = True


class CustomerIn(Input):
    name: Text = ""
    email: EmailStr | None = None
    phone: Annotated[SingleLine, Field(max_length=40)] = ""


class OrderLineIn(Input):
    sku: Annotated[SingleLine, Field(min_length=1, max_length=64)]
    name: Text = ""
    quantity: Annotated[int, Field(ge=1, le=100000)]
    unit_price: MinorUnits = 0


class PickupPointIn(Input):
    """A store or locker the customer chose at checkout (its id in the carrier's network)."""

    id: Annotated[SingleLine, Field(min_length=1, max_length=64)]
    name: Text = ""
    network: Annotated[SingleLine, Field(max_length=64)] = ""
    address: AddressIn | None = None
    hours: Text = ""
    # The carrier's name of the store's chain, as its store map gave it (ECPay's
    # LogisticsSubType: UNIMART, UNIMARTC2C, FAMI, FAMIC2C, HILIFE, HILIFEC2C, OKMARTC2C).
    chain: Annotated[SingleLine, Field(max_length=20)] = ""


class OrderIn(Input):
    order_number: Annotated[SingleLine, Field(min_length=1, max_length=64)]
    placed_at: AwareDatetime | None = None
    customer: CustomerIn = CustomerIn()
    ship_to: AddressIn
    currency: Currency
    language: Annotated[SingleLine, Field(max_length=16)] = "en"
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=500)]
    cash_on_delivery: Annotated[
        MinorUnits, Field(description="minor units to collect on delivery; 0: prepaid")
    ] = 0
    pickup_point: PickupPointIn | None = None


class OrderLineOut(Output):
    sku: str
    name: str
    quantity: int
    unit_price: int


class OrderOut(Output):
    id: str
    order_number: str
    placed_at: datetime
    customer_name: str
    customer_email: str
    ship_to: dict
    currency: str
    total_amount: int
    language: str
    promised_date: date | None
    created_at: datetime
    lines: list[OrderLineOut]
    shipment_ids: list[str]
    paid: bool = Field(description="false: a shop order waiting for payment")
    cancelled_at: datetime | None = Field(description="when its shop cancelled it")
    attention: list[str] = Field(
        description="what needs a person before it ships (a missing or unmapped field)"
    )
    source_account: str | None = Field(description="the channel account of a shop's order")
    cash_on_delivery: int
    pickup_point: dict | None


class ParcelIn(Input):
    weight_g: Annotated[int, Field(ge=1, le=1_000_000, description="grams")]
    length_mm: Annotated[int, Field(ge=0, le=10_000)] = 0
    width_mm: Annotated[int, Field(ge=0, le=10_000)] = 0
    height_mm: Annotated[int, Field(ge=0, le=10_000)] = 0


class ShipmentIn(Input):
    order_id: Annotated[SingleLine, Field(max_length=40)] | None = None
    kind: Literal["forward", "return"] = "forward"
    carrier: Annotated[str, Field(description="a carrier code, e.g. ups, fedex, sandbox")]
    carrier_account: Annotated[SingleLine, Field(max_length=64)] = ""
    service: Annotated[SingleLine, Field(max_length=64)] = ""
    tracking_number: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{4,64}$")]
    warehouse_code: Annotated[SingleLine, Field(max_length=32)] = ""
    promised_date: date | None = None
    parcels: Annotated[list[ParcelIn], Field(max_length=100)] = []

    @field_validator("carrier")
    @classmethod
    def _known_carrier(cls, value: str) -> str:
        if value not in available_carriers():
            raise ValueError(f"unknown carrier; use one of {', '.join(available_carriers())}")
        return value


class EventOut(Output):
    status: Status
    reason: str | None
    raw_code: str
    raw_text: str
    occurred_at: datetime
    location: str
    source: str


class ShipmentOut(Output):
    id: str
    order_id: str | None
    kind: str
    carrier: str
    carrier_account: str
    service: str
    tracking_number: str
    warehouse_code: str
    status: Status
    status_reason: str | None
    promised_date: date | None
    predicted_date: date | None
    carrier_estimated_delivery: datetime | None = Field(
        None, description="the carrier's own estimate, beside our predicted_date"
    )
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


class ShipmentDetailOut(ShipmentOut):
    events: list[EventOut]


class PageQuery(Input):
    cursor: Annotated[str, Field(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    created_from: AwareDatetime | None = None
    created_to: AwareDatetime | None = None


class ShipmentQuery(PageQuery):
    status: Status | None = None
    carrier: Annotated[SingleLine, Field(max_length=32)] | None = None
    kind: Literal["forward", "return"] | None = None


class OrderPage(BaseModel):
    data: list[OrderOut]
    next_cursor: str | None


class ShipmentPage(BaseModel):
    data: list[ShipmentOut]
    next_cursor: str | None


class IdPath(Input):
    id: Annotated[SingleLine, Field(max_length=40)]
