"""Configuration: `config.yaml` validated by pydantic, environment variables on top.

A bad file stops start-up with one paragraph naming the file, the key path and the fix,
never a traceback. Deployments override with SHIPFLOW_* environment variables, and give
secrets (carrier credentials, alert channel URLs, the store webhook's secret) as `${NAME}`
references to environment variables, so the file itself holds none.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable, Mapping
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from carriers.registry import available_carriers, get_carrier_class
from channels.registry import available_channels
from channels.shopify.oauth import SCOPES as SHOPIFY_SCOPES
from shipflow.calendars import working_week
from shipflow.delays.config import AlertsConfig
from shipflow.domain import Address, CarrierService, ServiceLevel, Warehouse
from shipflow.notify.config import CustomerChannelsConfig
from shipflow.notify.outbound import DestinationRefused, Unresolvable, check_destination
from shipflow.notify.templates import Milestone, Template
from shipflow.notify.transports import SmtpUrl
from shipflow.text import SingleLine
from shipflow.tracking.config import TrackingConfig

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SECRET_MIN_BYTES = 32
GENERATE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
AccountCode = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")]


def _one_of(kind: str, names: Callable[[], list[str]]) -> AfterValidator:
    """Refuses a name the registry does not know (a carrier, a channel), naming those it does."""

    def known(value: str) -> str:
        if value not in names():
            raise ValueError(f"unknown {kind} {value!r}; known {kind}s: {', '.join(names())}")
        return value

    return AfterValidator(known)


class ConfigError(Exception):
    """Raised with a message fit to show a person as it is."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int):  # YAML reads 15:00 as sexagesimal 900
        value = f"{value // 60:02d}:{value % 60:02d}"
    text = str(value)
    try:
        hours, minutes, *_ = (int(part) for part in text.split(":"))  # also the stored HH:MM:SS
        return time(hours, minutes)
    except ValueError:
        raise ValueError(f"expected a 24-hour time like '15:00', got {text!r}") from None


class WarehouseConfig(Strict):
    code: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
    name: str
    country: Annotated[str, Field(min_length=2, max_length=2)]
    postal_code: str
    city: str = ""
    state: str = ""
    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]
    timezone: str
    cutoff: time = time(15, 0)
    handling_days: Annotated[int, Field(ge=0, le=30)] = 0
    working_days: list[Weekday] | None = None  # unset: holiday_country's working week
    holiday_country: str = "US"
    holiday_subdivision: str | None = None
    pickup_days: list[Weekday] | None = None  # unset: the working days
    stock: dict[str, Annotated[int, Field(ge=0)]] = {}
    sender_name: str = ""  # the shipper's name on labels, where a carrier needs one (ECPay)
    phone: str = ""  # the shipper's phone, likewise

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like 'America/New_York'"
            ) from None
        return value

    @field_validator("cutoff", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> time:
        return _parse_clock(value)

    def to_domain(self) -> Warehouse:
        working = _weekdays(self.working_days) or working_week(self.holiday_country)
        return Warehouse(
            code=self.code,
            name=self.name,
            address=Address(
                country=self.country,
                postal_code=self.postal_code,
                city=self.city,
                state=self.state,
                name=self.sender_name,
                phone=self.phone,
            ),
            latitude=self.latitude,
            longitude=self.longitude,
            timezone=self.timezone,
            cutoff=self.cutoff,
            handling_days=self.handling_days,
            working_days=working,
            holiday_country=self.holiday_country,
            holiday_subdivision=self.holiday_subdivision,
            pickup_days=_weekdays(self.pickup_days) or working,
            stock=dict(self.stock),
        )


def _weekdays(names: list[Weekday] | None) -> frozenset[int]:
    return frozenset(WEEKDAYS.index(d) for d in names or ())


class ServiceConfig(Strict):
    code: str
    level: ServiceLevel = ServiceLevel.STANDARD
    saturday_delivery: bool = False  # Monday to Saturday
    # The carrier's own delivery days when they are not Monday to Friday (or Saturday): an
    # Iranian service delivering Saturday to Wednesday says [sat, sun, mon, tue, wed].
    delivery_days: list[Weekday] | None = None
    # What the shop charges the shopper for this service, in minor units of the brand's
    # currency: the widget shows it beside the service's date (unset: no price shown).
    price: Annotated[int, Field(ge=0)] | None = None

    def weekdays(self) -> frozenset[int]:
        if self.delivery_days:
            return _weekdays(self.delivery_days)
        return frozenset({0, 1, 2, 3, 4, 5} if self.saturday_delivery else {0, 1, 2, 3, 4})


class CarrierAccountConfig(Strict):
    code: AccountCode
    carrier: Annotated[str, _one_of("carrier", available_carriers)]
    services: list[ServiceConfig] = []
    credentials: dict[str, str] = {}
    sandbox: bool = True
    base_url: str = ""
    """Another endpoint than the carrier's. A path (`/demo/ecpay`, the demo's simulated ECPay)
    is on this instance's own `base_url`, so the demo follows `make run PORT=8080`."""

    @field_validator("base_url")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if value and not value.startswith(("/", "http://", "https://")):
            raise ValueError(
                f"{value!r} is neither a URL (https://...) nor a path on this instance (/...)"
            )
        return value

    def endpoint(self, own_base_url: str) -> str:
        """Where the adapter sends its calls ("" for the carrier's own address)."""
        if self.base_url.startswith("/"):
            return own_base_url.rstrip("/") + self.base_url
        return self.base_url

    def services_domain(self) -> list[CarrierService]:
        adapter = get_carrier_class(self.carrier)
        capabilities = frozenset(adapter.capabilities)
        return [
            CarrierService(
                carrier=self.carrier,
                service=s.code,
                level=s.level,
                delivery_days=s.weekdays(),
                account=self.code,
                capabilities=capabilities,
                pickup_chains=adapter.pickup_chains(s.code),
            )
            for s in self.services
        ]


class ChannelAccountConfig(Strict):
    """A brand's shop on a sales channel: orders come in from it, fulfilments go back."""

    code: AccountCode
    channel: Annotated[str, _one_of("channel", available_channels)]
    shop: Annotated[str, Field(min_length=1)]  # the shop's identity there, e.g. its domain
    credentials: dict[str, str] = {}
    # Unpaid orders allocated anyway, by why they are unpaid (else they wait for payment).
    allocate_unpaid: list[Literal["cash_on_delivery"]] = []
    refunds: bool = False  # a received return is refunded in the shop (else the store webhook)
    # The checkout's shipping method (code or title) -> the service level it promises, and
    # the shop's fulfilment location id -> our warehouse code; an unknown one needs attention.
    shipping_methods: dict[str, ServiceLevel] = {}
    locations: dict[str, str] = {}


class RecommendationConfig(Strict):
    """A hand-picked card in the tracking page's "you might also like" slot (rule `picked`);
    with its `sku`, it is left out for a customer who just bought that product."""

    title: str
    url: str
    image_url: str = ""
    sku: str = ""


# How the slot is filled, in the brand's order until `recommend_count` cards: products the
# brand relates to what was bought, its best sellers of the last 30 days, its picked cards.
RecommendationRule = Literal["related", "best_sellers", "picked"]


class ThemeConfig(Strict):
    logo_url: str = ""
    primary_color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] = "#1f4e79"
    accent_color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] = "#f2a900"
    font_family: str = "system-ui, sans-serif"
    links: dict[str, str] = {}
    custom_css: str = ""
    recommendations: list[RecommendationConfig] = []
    recommend: list[RecommendationRule] = ["picked"]
    recommend_count: Annotated[int, Field(ge=1, le=8)] = 3
    # Where product images may come from besides shipflow itself: https origins the brand
    # names (its CDN), so a customer's page makes no request to anyone else by default.
    image_hosts: list[Annotated[str, Field(pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]+)?$")]] = []


class ProductConfig(Strict):
    sku: str
    name: str
    price: Annotated[int, Field(ge=0)]  # minor units
    final_sale: bool = False
    weight_g: Annotated[int, Field(gt=0)] = 500
    url: str = ""  # the product's page in the shop: needed to be recommended
    image_url: str = ""  # https on one of the theme's image_hosts, or a path on shipflow
    related: list[str] = []  # SKUs to recommend to whoever bought this one


class ReturnReasonConfig(Strict):
    allowed: bool = True
    photos_required: bool = False
    window_days: Annotated[int, Field(gt=0)] | None = None  # overrides the brand's window


class ReturnsConfig(Strict):
    """The brand's return policy and where the store hears about returns (signed webhooks)."""

    window_days: Annotated[int, Field(gt=0)] = 30
    auto_approve_up_to: Annotated[int, Field(ge=0)] = 20000  # minor units; above: a person
    final_sale_skus: list[str] = []
    reasons: dict[str, ReturnReasonConfig] = {}  # added to / overriding the default reasons
    store_webhook_url: str = ""
    store_webhook_secret: str = ""

    @model_validator(mode="after")
    def _signed(self) -> ReturnsConfig:
        if self.store_webhook_url and not self.store_webhook_secret:
            raise ValueError(
                "store_webhook_url needs store_webhook_secret (webhooks to the store are signed)"
            )
        return self


class PickupPointConfig(Strict):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    name: str
    address: str
    hours: str = ""


class NdrConfig(Strict):
    """Failed deliveries: attempts before return to sender, pickup points to offer."""

    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    pickup_points: list[PickupPointConfig] = []


class QuietHoursConfig(Strict):
    """Customer messages due in these hours (the customer's local time) wait until the end."""

    start: time
    end: time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> time:
        return _parse_clock(value)


class NotificationsConfig(Strict):
    """Customer messages: when they may arrive and the brand's own wording, per milestone and
    language (Jinja in a sandbox, over shipflow's defaults)."""

    quiet_hours: QuietHoursConfig = QuietHoursConfig(start=time(21, 0), end=time(8, 0))
    templates: dict[Milestone, dict[str, Template]] = {}
    # Days before a pickup point's deadline to remind an uncollected parcel's customer, once each.
    pickup_reminder_days: list[Annotated[int, Field(ge=1, le=14)]] = [2, 1]


class BrandConfig(Strict):
    code: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9-]+$")]
    name: SingleLine  # the From name of the brand's e-mails
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    languages: list[str] = ["en"]
    allowed_origins: list[str] = []
    edd_confidence: Annotated[float, Field(gt=0.5, lt=1)] = 0.95
    theme: ThemeConfig = ThemeConfig()
    warehouses: Annotated[list[WarehouseConfig], Field(min_length=1)]
    carriers: Annotated[list[CarrierAccountConfig], Field(min_length=1)]
    channels: list[ChannelAccountConfig] = []
    products: list[ProductConfig] = []
    rules: dict[str, Any] = {}
    returns: ReturnsConfig = ReturnsConfig()
    ndr: NdrConfig = NdrConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    customer_channels: CustomerChannelsConfig = CustomerChannelsConfig()
    alerts: AlertsConfig = AlertsConfig()

    @model_validator(mode="after")
    def _images_from_known_hosts(self) -> BrandConfig:
        """Recommendation images load in customers' browsers: from shipflow (a path) or from
        an https origin the brand listed in `theme.image_hosts`, never from anywhere else."""
        hosts = self.theme.image_hosts
        images = [(f"products[{p.sku}].image_url", p.image_url) for p in self.products] + [
            (f"theme.recommendations[{i}].image_url", r.image_url)
            for i, r in enumerate(self.theme.recommendations)
        ]
        for where, url in images:
            if url and not (
                (url.startswith("/") and not url.startswith("//"))
                or any(url.startswith(host + "/") for host in hosts)
            ):
                raise ValueError(
                    f"{where} {url!r} must be a path on shipflow or an https URL on one of "
                    f"theme.image_hosts ({hosts or 'none listed'}); add its origin there"
                )
        return self

    @model_validator(mode="after")
    def _unique_codes(self) -> BrandConfig:
        for kind, items in (
            ("warehouse", self.warehouses),
            ("carrier account", self.carriers),
            ("channel account", self.channels),
        ):
            seen: set[str] = set()
            for item in items:
                if item.code in seen:
                    raise ValueError(f"duplicate {kind} code {item.code!r}; codes must be unique")
                seen.add(item.code)
        return self


class DemoConfig(Strict):
    orders_per_minute: Annotated[float, Field(ge=0)] = 6
    clock_speed: Annotated[float, Field(gt=0)] = 1440  # a simulated day a real minute
    seed: int = 7


class WebConfig(Strict):
    """The web tier: whom to believe about a client's address, where request limits count."""

    trusted_proxies: Annotated[int, Field(ge=0, le=10)] = 0  # proxies setting X-Forwarded-For
    redis_url: str = ""  # shared limits; empty: the broker with `jobs: celery`, else in-process


class NotifyConfig(Strict):
    """Where messages may go: configured URLs must be public unless listed here."""

    allow_private_networks: list[IPvAnyNetwork] = []  # e.g. [10.20.0.0/16] for an internal ERP
    # customer e-mails of a batch sent at once, each connection one recipient's in order: every
    # message waits on four SMTP round trips, so one connection to a relay 30 ms away sends 8/s
    smtp_connections: Annotated[int, Field(ge=1, le=32)] = 4


class RetentionConfig(Strict):
    """How long rows nothing reads any more are kept (`shipflow.retention`)."""

    receipts_days: Annotated[int, Field(gt=0)] = 30  # processed webhook receipts
    finished_events_days: Annotated[int, Field(gt=0)] = 400  # events of finished shipments
    outbox_days: Annotated[int, Field(gt=0)] = 14  # handled outbox messages
    archive_dir: str = "instance/archive"  # gzip JSON Lines per batch; "" deletes unarchived
    batch_size: Annotated[int, Field(gt=0, le=100_000)] = 5000
    max_batches: Annotated[int, Field(gt=0)] = 100  # per table and run: bounds one run


class BatchingConfig(Strict):
    """How a busy stage gathers a batch (`shipflow.jobs.held_for`, both runners): a run of a
    periodic job that found some work but fewer than `floor` items is followed, woken or
    not, no sooner than `gather_seconds` after it ended, so under load each run claims,
    commits and wakes the next stage for a batch rather than for the few items that came
    meanwhile. A run that found none, or `floor` or more, is followed at once: a lone event
    waits for nothing, a backlog drains back to back. 0 seconds: no gathering. The floor is
    the receipts job's batch on SQLite (`process_due_receipts`' limit; 400 on PostgreSQL),
    and 0.2 s lets a busy stage's batch grow towards it: at 50 / 0.05 s the embedded
    default's batches were only what arrived while the last run went round (50 receipts, 30
    outbox messages at 250 events/s), and a batch of 100 costs the jobs a third less CPU an
    event than one of 50 (docs/benchmarks.md, "tenth session")."""

    floor: Annotated[int, Field(gt=0)] = 100
    gather_seconds: Annotated[float, Field(ge=0, le=5)] = 0.2


class ShopifyAppConfig(Strict):
    """Our Shopify app (Partner Dashboard > Apps > Client credentials), through which brands
    install shipflow in their shops. The secret signs install requests and webhooks."""

    client_id: str = ""
    client_secret: str = ""  # ${SHOPIFY_CLIENT_SECRET}
    scopes: list[str] = list(SHOPIFY_SCOPES)


class Settings(Strict):
    database_url: str = "sqlite:///instance/shipflow.db"
    secret_key: str = ""  # unset: the service refuses to start (the demo generates one)
    base_url: str = "http://127.0.0.1:8000"
    jobs: Literal["inprocess", "celery"] = "inprocess"
    broker_url: str = "redis://127.0.0.1:6379/0"
    smtp_url: str = ""
    link_max_age_days: Annotated[int, Field(gt=0)] = 30
    brands: Annotated[list[BrandConfig], Field(min_length=1)]
    demo: DemoConfig = DemoConfig()
    tracking: TrackingConfig = TrackingConfig()
    web: WebConfig = WebConfig()
    notify: NotifyConfig = NotifyConfig()
    retention: RetentionConfig = RetentionConfig()
    batching: BatchingConfig = BatchingConfig()
    shopify: ShopifyAppConfig = ShopifyAppConfig()
    _source: str = PrivateAttr("the configuration")

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: str) -> str:
        if value and len(value.encode()) < SECRET_MIN_BYTES:
            raise ValueError(
                f"must be at least {SECRET_MIN_BYTES} bytes of random text (a short or published "
                f"key lets anyone forge customer links and ops sessions); set SHIPFLOW_SECRET_KEY "
                f"to the output of `{GENERATE_SECRET}`"
            )
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        if value:
            SmtpUrl.parse(value)  # raises, naming the form it wants
        return value

    @model_validator(mode="after")
    def _unique_brands(self) -> Settings:
        codes = [b.code for b in self.brands]
        if len(codes) != len(set(codes)):
            raise ValueError("duplicate brand code; each brand needs its own code")
        return self

    @model_validator(mode="after")
    def _public_destinations(self) -> Settings:
        """Checked again at each send (DNS changes); a host that does not resolve yet passes."""
        for i, brand in enumerate(self.brands):
            urls = {f"brands[{i}].returns.store_webhook_url": brand.returns.store_webhook_url}
            for name, channel in brand.alerts.channels.items():
                urls[f"brands[{i}].alerts.channels.{name}.url"] = channel.url
            for name, provider in brand.customer_channels.providers.items():
                urls[f"brands[{i}].customer_channels.providers.{name}.url"] = provider.url
            for key, url in urls.items():
                try:
                    if url:
                        check_destination(url, self.notify.allow_private_networks)
                except Unresolvable:
                    continue
                except DestinationRefused as exc:
                    raise ValueError(f"{key}: {exc}") from None
        return self

    def brand(self, code: str) -> BrandConfig | None:
        return next((b for b in self.brands if b.code == code), None)

    def shared_state_url(self) -> str:
        """Redis for state every process shares (web limits, carrier-call buckets):
        `web.redis_url`, else the broker when the service scales out; empty: in-process."""
        if self.web.redis_url:
            return self.web.redis_url
        if self.jobs == "celery" and self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return ""

    def require_secret(self) -> None:
        """Stop start-up when no secret is set: nothing may be signed with an empty key."""
        if not self.secret_key:
            raise ConfigError(
                f"{self._source}: secret_key is not set. Set SHIPFLOW_SECRET_KEY (or secret_key "
                f"in that file) to at least {SECRET_MIN_BYTES} random bytes, the same on every "
                f"machine: `{GENERATE_SECRET}`. (`shipflow serve --demo` generates its own "
                "into instance/.)"
            )

    def signing_key(self, use: Literal["session", "links"]) -> str:
        """A key of its own for each use of the secret, so that what is signed as an ops
        session cookie never verifies as a customer link, and the other way round."""
        self.require_secret()
        return _derived_key(self.secret_key, use)


@lru_cache(maxsize=8)
def _derived_key(secret: str, use: str) -> str:
    """Derived once per process: every customer message signs a tracking link, and the HMAC
    (pure-Python set-up) cost as much as a fifth of the signing."""
    return hmac.new(secret.encode(), f"shipflow.{use}".encode(), hashlib.sha256).hexdigest()


ENV_OVERRIDES = {
    "SHIPFLOW_DATABASE_URL": "database_url",
    "SHIPFLOW_SECRET_KEY": "secret_key",
    "SHIPFLOW_BASE_URL": "base_url",
    "SHIPFLOW_JOBS": "jobs",
    "SHIPFLOW_BROKER_URL": "broker_url",
    "SHIPFLOW_SMTP_URL": "smtp_url",
}


ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _with_environment(value: Any, environ: Mapping[str, str], source: str, loc: tuple = ()) -> Any:
    """`value` with every `${NAME}` in its strings replaced by that environment variable."""
    if isinstance(value, dict):
        return {k: _with_environment(v, environ, source, (*loc, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_environment(v, environ, source, (*loc, i)) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def variable(match: re.Match) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(
                f"{source}: {_key_path(loc)} refers to the environment variable {name}, which "
                f"is not set; set {name} in shipflow's environment (or put the value in its place)."
            )
        return environ[name]

    return ENV_REFERENCE.sub(variable, value)


def _key_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _describe(error: ErrorDetails, raw: Any) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "this key is required but missing"
    elif error["type"] == "extra_forbidden":
        message = "unknown key (check its spelling and indentation)"
    return f"{_key_path(loc)}: {message}"


def parse_settings(raw: Any, source: str, environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of settings at the top level")
    data = _with_environment(raw, environ, source)
    for variable, key in ENV_OVERRIDES.items():
        if environ.get(variable):
            data[key] = environ[variable]
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(e, raw) for e in exc.errors())
        raise ConfigError(f"{source} is invalid: {problems}.") from None
    settings._source = source
    return settings


class _YamlLoader(yaml.SafeLoader):
    """`yaml.safe_load`'s loader, refusing a key written twice in one mapping, of which
    PyYAML would keep the last and silently drop the first."""

    def construct_mapping(self, node, deep=False):
        lines: dict[str, int] = {}
        for key, _value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            if key.value in lines:
                raise yaml.constructor.ConstructorError(
                    problem=f"the key {key.value!r} is also at line {lines[key.value]}; keep one",
                    problem_mark=key.start_mark,
                )
            lines[key.value] = key.start_mark.line + 1
        return super().construct_mapping(node, deep)


def load_settings(
    path: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read and validate the configuration file (SHIPFLOW_CONFIG or ./config.yaml)."""
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("SHIPFLOW_CONFIG") or DEFAULT_CONFIG)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror}).") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}: line {line} is not UTF-8 text (byte 0x{data[exc.start]:02x}); "
            "save the file as UTF-8."
        ) from None
    try:
        raw = yaml.load(text, Loader=_YamlLoader)  # a SafeLoader: no Python objects
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError(
            f"{path}: line {line} holds the character U+{exc.character:04X}, "
            "which YAML does not allow; remove it."
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: malformed YAML{where}: {problem}.") from None
    return parse_settings(raw, str(path), environ)
