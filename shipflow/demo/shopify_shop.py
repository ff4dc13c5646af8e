"""A simulated Shopify store, on the sandbox carrier's principle: a local endpoint speaking the
shapes of Shopify's Admin API for the calls shipflow makes, sending signed order webhooks.

It serves the OAuth grant (`/admin/oauth/authorize` approves at once, `/admin/oauth/access_token`
hands out an offline token) and the GraphQL Admin API (`/admin/api/<version>/graphql.json`) for
the root fields shipflow uses: `orders`, `order`, `fulfillment`, `webhookSubscriptions`,
`webhookSubscriptionCreate`, `fulfillmentCreate`, `fulfillmentEventCreate`, `refundCreate`.
Answers carry every field shipflow might select (connections as both `nodes` and `edges`), and
the calculated query cost is enforced with Shopify's leaky bucket: the requested cost must be
available, the actual cost (the same count over what was returned) is what stays taken, so a
client that ignores `extensions.cost.throttleStatus` is answered `THROTTLED` as the real API
would.

Shapes follow shopify.dev: "Order" (REST resource, the body of orders/* webhooks), the GraphQL
Admin API reference of the root fields above, "Verify webhooks" (X-Shopify-Hmac-Sha256 is the
base64 HMAC-SHA256 of the raw body with the app's client secret) and "GraphQL Admin API rate
limits" (Standard plan: 100 points/second restored; a single query may cost at most 1,000).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, redirect, request

API_VERSION = "2025-10"
MAX_QUERY_COST = 1000
WEBHOOK_TOPICS = {
    "ORDERS_CREATE": "orders/create",
    "ORDERS_PAID": "orders/paid",
    "ORDERS_UPDATED": "orders/updated",
    "ORDERS_CANCELLED": "orders/cancelled",
    "APP_UNINSTALLED": "app/uninstalled",
}
# Our Status names as fulfillment event statuses (FulfillmentEventStatus enum).
EVENT_STATUSES = frozenset(
    {
        "ATTEMPTED_DELIVERY",
        "CARRIER_PICKED_UP",
        "CONFIRMED",
        "DELAYED",
        "DELIVERED",
        "FAILURE",
        "IN_TRANSIT",
        "LABEL_PRINTED",
        "LABEL_PURCHASED",
        "OUT_FOR_DELIVERY",
        "PICKED_UP",
        "READY_FOR_PICKUP",
    }
)
FREE_WRAPPERS = frozenset({"node", "pageInfo"})
Deliver = Callable[[str, dict[str, str], bytes], None]


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def webhook_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _iso(moment: datetime) -> str:
    """Shopify writes times in the shop's zone with an offset; this shop's zone is UTC."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _money(amount: str, currency: str) -> dict[str, Any]:
    money = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


@dataclass
class LeakyBucket:
    """Shopify's calculated-cost bucket: `restore_rate` points come back each second."""

    maximum: float = 2000.0
    restore_rate: float = 100.0
    clock: Callable[[], float] = time.monotonic
    available: float = 2000.0
    _at: float | None = None

    def _refill(self) -> None:
        now = self.clock()
        if self._at is not None:
            self.available = min(
                self.maximum, self.available + (now - self._at) * self.restore_rate
            )
        self._at = now

    def take(self, requested: float) -> bool:
        self._refill()
        if requested > self.available:
            return False
        self.available -= requested
        return True

    def refund(self, points: float) -> None:
        self.available = min(self.maximum, self.available + points)

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": round(self.available, 1),
            "restoreRate": self.restore_rate,
        }


@dataclass
class SimulatedShopify:
    """One store with one installed app. `orders` hold REST-shaped orders (the webhook body);
    what shipflow writes back is kept in `fulfillments`, `events` and `refunds` for the demo
    page and the tests to read."""

    domain: str
    client_id: str
    client_secret: str
    deliver: Deliver | None = None
    bucket: LeakyBucket = field(default_factory=LeakyBucket)
    access_token: str = field(default_factory=lambda: "shpat_" + secrets.token_hex(16))
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, str]] = field(default_factory=dict)  # gid -> topic, url
    fulfillments: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(450789469))
    _names: itertools.count = field(default_factory=lambda: itertools.count(1001))
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _sorted: list[tuple[str, int]] | None = None  # (updated_at, id) of every order

    def resume(self, last_id: int, last_name: int) -> None:
        """Number new orders after these: a store restarted in memory is still the store
        whose orders the brand already holds, so its ids and names go on from them."""
        with self._lock:
            self._ids = itertools.count(max(last_id + 1, next(self._ids)))
            self._names = itertools.count(max(last_name + 1, next(self._names)))

    def _index(self) -> list[tuple[str, int]]:
        if self._sorted is None:
            self._sorted = sorted((o["updated_at"], o["id"]) for o in self.orders.values())
        return self._sorted

    # -- the merchant's side ------------------------------------------------------------

    def place(self, order: dict[str, Any], *, paid: bool = True) -> dict[str, Any]:
        """Keep a REST-shaped order (id, timestamps and status filled in) and announce it:
        orders/create, then orders/paid when it is paid."""
        with self._lock:
            number = next(self._ids)
            now = _iso(datetime.now(UTC))
            order = {
                **order,
                "id": number,
                "admin_graphql_api_id": gid("Order", number),
                "created_at": now,
                "updated_at": now,
                "cancelled_at": None,
                "financial_status": "paid" if paid else "pending",
                "fulfillment_status": None,
            }
            order.setdefault("name", f"#{next(self._names)}")
            self.orders[number] = order
            self._sorted = None
        self.announce("orders/create", order)
        if paid:
            self.announce("orders/paid", order)
        return order

    def update(self, number: int, topic: str = "orders/updated", **changes: Any) -> None:
        with self._lock:
            order = self.orders[number]
            order.update(changes, updated_at=_iso(datetime.now(UTC)))
            self._sorted = None
        self.announce(topic, order)

    def announce(self, topic: str, body: dict[str, Any]) -> None:
        """POST a signed webhook of `topic` to every subscription of it."""
        if self.deliver is None:
            return
        payload = json.dumps(body).encode()
        for subscription in list(self.subscriptions.values()):
            if subscription["topic"] != topic:
                continue
            self.deliver(
                subscription["url"],
                {
                    "Content-Type": "application/json",
                    "X-Shopify-Topic": topic,
                    "X-Shopify-Shop-Domain": self.domain,
                    "X-Shopify-Hmac-Sha256": webhook_hmac(self.client_secret, payload),
                    "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                    "X-Shopify-Triggered-At": _iso(datetime.now(UTC)),
                    "X-Shopify-API-Version": API_VERSION,
                },
                payload,
            )

    def timeline(self, number: int) -> list[dict[str, Any]]:
        """What the order's timeline in the Shopify admin would show of shipflow's work."""
        with self._lock:
            ours = [f for f in self.fulfillments.values() if f["order_id"] == number]
            ids = {f["id"] for f in ours}
            return ours + [e for e in self.events if e["fulfillment_id"] in ids]

    # -- the GraphQL Admin API -----------------------------------------------------------

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        root = _root_field(query)
        handler = getattr(self, f"_q_{root}", None)
        if handler is None:
            return {"errors": [{"message": f"Field '{root}' doesn't exist on type 'QueryRoot'"}]}
        requested = _requested_cost(query, variables)
        if requested > MAX_QUERY_COST:
            return {
                "errors": [
                    {
                        "message": f"Query cost is {requested}, which exceeds the single query "
                        f"max cost limit ({MAX_QUERY_COST}).",
                        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested},
                    }
                ]
            }
        with self._lock:
            if not self.bucket.take(requested):
                return {
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": {"cost": self._cost(requested, None)},
                }
            data = handler(_arguments(query, variables), variables)
            actual = _actual_cost(query, variables, {root: data})
            self.bucket.refund(max(0, requested - actual))
            return {"data": {root: data}, "extensions": {"cost": self._cost(requested, actual)}}

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": self.bucket.status(),
        }

    def _q_orders(self, args: dict[str, Any], variables: dict[str, Any]) -> dict:
        """Oldest change first (sortKey UPDATED_AT), pages found by bisection so a store of
        100,000 orders answers as fast as one of ten."""
        first = int(args.get("first") or 50)
        since = _updated_since(str(args.get("query") or ""))
        keys = self._index()
        start = bisect.bisect_left(keys, (since, -1)) if since else 0
        if args.get("after"):
            updated_at, number = json.loads(base64.b64decode(str(args["after"])))
            start = max(start, bisect.bisect_right(keys, (updated_at, number)))
        page = [self.orders[number] for _, number in keys[start : start + first]]
        nodes = [self._order_node(o) for o in page]
        has_next = start + first < len(keys)
        connection = {
            "nodes": nodes,
            "edges": [{"cursor": _cursor(o), "node": n} for o, n in zip(page, nodes, strict=True)],
            "pageInfo": {
                "hasNextPage": has_next,
                "hasPreviousPage": start > 0,
                "startCursor": _cursor(page[0]) if page else None,
                "endCursor": _cursor(page[-1]) if page else None,
            },
        }
        return connection

    def _q_order(self, args: dict[str, Any], variables: dict[str, Any]) -> dict | None:
        order = self.orders.get(_number(str(args.get("id", ""))))
        return self._order_node(order) if order else None

    def _q_fulfillment(self, args: dict, variables: dict) -> dict | None:
        found = self.fulfillments.get(str(args.get("id", "")))
        if found is None:
            return None
        events = [e for e in self.events if e["fulfillment_id"] == found["id"]]
        return {**found, "events": _connection(events)}

    def _q_webhookSubscriptions(self, args: dict, variables: dict) -> dict:  # noqa: N802
        nodes = [
            {
                "id": key,
                "topic": topic,
                "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": sub["url"]},
                "uri": sub["url"],
            }
            for key, sub in self.subscriptions.items()
            for topic in [k for k, v in WEBHOOK_TOPICS.items() if v == sub["topic"]]
        ]
        return {"nodes": nodes, "edges": [{"node": n} for n in nodes]}

    def _q_webhookSubscriptionCreate(self, args: dict, variables: dict) -> dict:  # noqa: N802
        topic = str(args.get("topic", ""))
        spec = args.get("webhookSubscription") or {}
        url = spec.get("callbackUrl") or spec.get("uri") or ""
        if topic not in WEBHOOK_TOPICS or not url:
            error = {"field": ["topic"], "message": f"Topic {topic!r} is not valid"}
            return {"webhookSubscription": None, "userErrors": [error]}
        for sub in self.subscriptions.values():
            if sub == {"topic": WEBHOOK_TOPICS[topic], "url": url}:
                error = {
                    "field": ["callbackUrl"],
                    "message": "Address for this topic has already been taken",
                }
                return {"webhookSubscription": None, "userErrors": [error]}
        key = gid("WebhookSubscription", next(self._ids))
        self.subscriptions[key] = {"topic": WEBHOOK_TOPICS[topic], "url": url}
        created = {"id": key, "topic": topic, "endpoint": {"callbackUrl": url}, "uri": url}
        return {"webhookSubscription": created, "userErrors": []}

    def _q_fulfillmentCreate(self, args: dict, variables: dict) -> dict:  # noqa: N802
        spec = args.get("fulfillment") or {}
        groups = spec.get("lineItemsByFulfillmentOrder") or []
        orders = {_number(str(g.get("fulfillmentOrderId", ""))) for g in groups}
        if len(orders) != 1 or next(iter(orders)) not in self.orders:
            error = {"field": ["fulfillment"], "message": "Fulfillment order does not exist."}
            return {"fulfillment": None, "userErrors": [error]}
        number = orders.pop()
        order = self.orders[number]
        if order.get("cancelled_at"):
            error = {
                "field": ["fulfillment"],
                "message": "Fulfillment order is not in an open state.",
            }
            return {"fulfillment": None, "userErrors": [error]}
        info = spec.get("trackingInfo") or {}
        key = gid("Fulfillment", next(self._ids))
        fulfillment = {
            "id": key,
            "order_id": number,
            "status": "SUCCESS",
            "createdAt": _iso(datetime.now(UTC)),
            "displayStatus": "FULFILLED",
            "trackingInfo": [
                {
                    "company": info.get("company"),
                    "number": info.get("number"),
                    "url": info.get("url"),
                }
            ],
            "notifyCustomer": bool(spec.get("notifyCustomer")),
        }
        self.fulfillments[key] = fulfillment
        order["fulfillment_status"] = "fulfilled"
        return {"fulfillment": fulfillment, "userErrors": []}

    def _q_fulfillmentTrackingInfoUpdate(self, args: dict, variables: dict) -> dict:  # noqa: N802
        """Another parcel's number on a fulfillment (the input replaces the whole list)."""
        fulfillment = self.fulfillments.get(str(args.get("fulfillmentId", "")))
        if fulfillment is None:
            error = {"field": ["fulfillmentId"], "message": "Fulfillment not found."}
            return {"fulfillment": None, "userErrors": [error]}
        spec = args.get("trackingInfoInput") or {}
        numbers = spec.get("numbers") or [spec.get("number")]
        urls = spec.get("urls") or [spec.get("url")] * len(numbers)
        fulfillment["trackingInfo"] = [
            {"company": spec.get("company"), "number": n, "url": u}
            for n, u in zip(numbers, urls, strict=False)
        ]
        return {"fulfillment": {"id": fulfillment["id"]}, "userErrors": []}

    def _q_fulfillmentEventCreate(self, args: dict, variables: dict) -> dict:  # noqa: N802
        spec = args.get("fulfillmentEvent") or {}
        if spec.get("fulfillmentId") not in self.fulfillments:
            error = {
                "field": ["fulfillmentEvent", "fulfillmentId"],
                "message": "Fulfillment not found.",
            }
            return {"fulfillmentEvent": None, "userErrors": [error]}
        if spec.get("status") not in EVENT_STATUSES:
            error = {"field": ["fulfillmentEvent", "status"], "message": "Status is invalid"}
            return {"fulfillmentEvent": None, "userErrors": [error]}
        event = {
            "id": gid("FulfillmentEvent", next(self._ids)),
            "fulfillment_id": spec["fulfillmentId"],
            "status": spec["status"],
            "happenedAt": spec.get("happenedAt"),
            "estimatedDeliveryAt": spec.get("estimatedDeliveryAt"),
            "city": spec.get("city"),
            "country": spec.get("country"),
            "message": spec.get("message"),
        }
        self.events.append(event)
        return {"fulfillmentEvent": event, "userErrors": []}

    def _q_refundCreate(self, args: dict, variables: dict) -> dict:  # noqa: N802
        spec = args.get("input") or {}
        number = _number(str(spec.get("orderId", "")))
        if number not in self.orders:
            error = {"field": ["orderId"], "message": "Order does not exist"}
            return {"refund": None, "userErrors": [error]}
        refund = {"id": gid("Refund", next(self._ids)), "order_id": number, **spec}
        self.refunds.append(refund)
        return {"refund": {"id": refund["id"]}, "userErrors": []}

    def _order_node(self, order: dict[str, Any]) -> dict[str, Any]:
        """The GraphQL Order object of a REST-shaped order."""
        currency = order.get("currency", "USD")
        address = order.get("shipping_address")
        lines = [
            {
                "id": gid("LineItem", item["id"]),
                "sku": item.get("sku"),
                "name": item.get("name"),
                "title": item.get("title"),
                "quantity": item.get("quantity"),
                "originalUnitPriceSet": _money(item.get("price", "0.00"), currency),
                "requiresShipping": item.get("requires_shipping", True),
                "variant": {"inventoryItem": {"measurement": {"weight": _weight(item)}}},
            }
            for item in order.get("line_items", [])
        ]
        fulfillment_order = {
            "id": gid("FulfillmentOrder", order["id"]),
            "status": "CLOSED" if order.get("fulfillment_status") else "OPEN",
            "assignedLocation": {
                "location": {"id": gid("Location", order.get("location_id") or 1)}
            },
            "lineItems": _connection(
                [
                    {
                        "id": gid("FulfillmentOrderLineItem", line["id"].rsplit("/", 1)[1]),
                        "remainingQuantity": line["quantity"],
                        "totalQuantity": line["quantity"],
                        "lineItem": {"id": line["id"], "sku": line["sku"]},
                    }
                    for line in lines
                ]
            ),
        }
        customer = order.get("customer") or {}
        return {
            "id": gid("Order", order["id"]),
            "legacyResourceId": str(order["id"]),
            "name": order.get("name"),
            "createdAt": order.get("created_at"),
            "updatedAt": order.get("updated_at"),
            "processedAt": order.get("processed_at") or order.get("created_at"),
            "cancelledAt": order.get("cancelled_at"),
            "cancelReason": (order.get("cancel_reason") or "").upper() or None,
            "displayFinancialStatus": (order.get("financial_status") or "").upper() or None,
            "displayFulfillmentStatus": "FULFILLED"
            if order.get("fulfillment_status")
            else "UNFULFILLED",
            "currencyCode": currency,
            "customerLocale": order.get("customer_locale"),
            "email": order.get("email"),
            "phone": order.get("phone"),
            "paymentGatewayNames": order.get("payment_gateway_names", []),
            "totalOutstandingSet": _money(order.get("total_outstanding", "0.00"), currency),
            "totalPriceSet": _money(order.get("total_price", "0.00"), currency),
            "customer": {
                "firstName": customer.get("first_name"),
                "lastName": customer.get("last_name"),
                "displayName": " ".join(
                    p for p in (customer.get("first_name"), customer.get("last_name")) if p
                ),
                "email": customer.get("email"),
                "phone": customer.get("phone"),
                "locale": customer.get("locale"),
            }
            if customer
            else None,
            "shippingAddress": {
                "name": address.get("name"),
                "firstName": address.get("first_name"),
                "lastName": address.get("last_name"),
                "company": address.get("company"),
                "address1": address.get("address1"),
                "address2": address.get("address2"),
                "city": address.get("city"),
                "province": address.get("province"),
                "provinceCode": address.get("province_code"),
                "zip": address.get("zip"),
                "country": address.get("country"),
                "countryCodeV2": address.get("country_code"),
                "phone": address.get("phone"),
            }
            if address
            else None,
            "shippingLine": {
                "code": line.get("code"),
                "title": line.get("title"),
                "source": line.get("source"),
            }
            if (line := (order.get("shipping_lines") or [None])[0])
            else None,
            "retailLocation": None,
            "lineItems": _connection(lines),
            "fulfillmentOrders": _connection([fulfillment_order]),
            "fulfillments": [f for f in self.fulfillments.values() if f["order_id"] == order["id"]],
        }

    # -- HTTP ----------------------------------------------------------------------------

    def blueprint(self, name: str = "simulated_shopify") -> Blueprint:
        """The store's HTTP face, to mount at a prefix standing for `https://<domain>`."""
        bp = Blueprint(name, __name__)

        @bp.get("/admin/oauth/authorize")
        def authorize():
            """The merchant approves at once: back to the app with a code, signed as Shopify
            signs it (hex HMAC-SHA256 of the sorted query without `hmac`)."""
            if request.args.get("client_id") != self.client_id:
                abort(400)
            params = {
                "code": secrets.token_hex(16),
                "shop": self.domain,
                "state": request.args.get("state", ""),
                "timestamp": str(int(time.time())),
                "host": base64.b64encode(f"{self.domain}/admin".encode()).decode().rstrip("="),
            }
            params["hmac"] = query_hmac(self.client_secret, params)
            return redirect(f"{request.args['redirect_uri']}?{urlencode(params)}")

        @bp.post("/admin/oauth/access_token")
        def access_token():
            body = request.get_json(silent=True) or request.form
            if (
                body.get("client_id") != self.client_id
                or body.get("client_secret") != self.client_secret
            ):
                return jsonify(
                    error="invalid_client", error_description="Client credentials are invalid"
                ), 400
            return jsonify(access_token=self.access_token, scope=body.get("scope") or "read_orders")

        @bp.post("/admin/api/<version>/graphql.json")
        def graphql(version: str):
            if request.headers.get("X-Shopify-Access-Token") != self.access_token:
                return jsonify(
                    errors="[API] Invalid API key or access token (unrecognized login or wrong password)"
                ), 401
            body = request.get_json(silent=True) or {}
            answer = self.graphql(str(body.get("query", "")), body.get("variables") or {})
            return Response(json.dumps(answer), mimetype="application/json")

        return bp


def query_hmac(secret: str, params: dict[str, str]) -> str:
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _connection(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "nodes": nodes,
        "edges": [
            {"node": n, "cursor": base64.b64encode(n["id"].encode()).decode()} for n in nodes
        ],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
    }


def _weight(item: dict[str, Any]) -> dict[str, Any] | None:
    grams = item.get("grams")
    return {"value": float(grams), "unit": "GRAMS"} if grams is not None else None


def _cursor(order: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps([order["updated_at"], order["id"]]).encode()).decode()


def _number(global_id: str) -> int:
    tail = global_id.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else -1


_ROOT = re.compile(r"\{\s*(?:\w+\s*:\s*)?(\w+)")


def _root_field(query: str) -> str:
    match = _ROOT.search(query)
    return match.group(1) if match else ""


def _arguments(query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The root field's arguments, from variables or scalar literals (what our calls use)."""
    tokens = _TOKEN.findall(query)
    i = tokens.index("{") + 2 if "{" in tokens else len(tokens)
    if i < len(tokens) and tokens[i] == ":":  # an alias
        i += 2
    args: dict[str, Any] = {}
    if i >= len(tokens) or tokens[i] != "(":
        return args
    i += 1
    while i + 2 < len(tokens) and tokens[i] != ")":
        name, raw = tokens[i], tokens[i + 2]
        if raw.startswith("$"):
            args[name] = variables.get(raw[1:])
        else:
            args[name] = json.loads(raw) if raw[0] in '"-0123456789tfn' else raw  # enums stay
        i += 3
    return args


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\$?\w+|[{}():]|[^\s,]')


@dataclass(frozen=True)
class _Field:
    """A selected field: its response key, `first` when it is a connection, its selection."""

    key: str
    first: int | None
    children: tuple[_Field, ...] | None


def _requested_cost(query: str, variables: dict[str, Any]) -> int:
    """Shopify's worst case: an object costs 1, a connection 2 plus `first` times its node's
    selection; scalars are free; a mutation costs 10."""
    if query.lstrip().startswith("mutation"):
        return 10
    return max(sum(_worst(f) for f in _selected(query, variables)), 1)


def _actual_cost(query: str, variables: dict[str, Any], data: dict[str, Any]) -> int:
    """The same count over what was returned: each object present costs 1, a connection 2
    plus what its returned nodes cost (shopify.dev "Actual query cost")."""
    if query.lstrip().startswith("mutation"):
        return 10
    return max(sum(_returned(f, data.get(f.key)) for f in _selected(query, variables)), 1)


def _worst(field: _Field) -> int:
    if field.children is None:
        return 0
    child = sum(_worst(c) for c in field.children)
    if field.first is not None:
        return 2 + field.first * child
    return child if field.key in FREE_WRAPPERS else 1 + child


def _returned(field: _Field, value: Any) -> int:
    if field.children is None or value is None:
        return 0
    if isinstance(value, list):  # a connection's nodes or edges, or a list of objects
        return sum(_returned(replace(field, first=None), item) for item in value)
    child = sum(_returned(c, value.get(c.key)) for c in field.children)
    if field.first is not None:
        return 2 + child
    return child if field.key in FREE_WRAPPERS else 1 + child


def _selected(query: str, variables: dict[str, Any]) -> tuple[_Field, ...]:
    tokens = _TOKEN.findall(query)
    start = tokens.index("{") if "{" in tokens else len(tokens)
    return _selection(tokens, start, variables)[0] if start < len(tokens) else ()


def _selection(
    tokens: list[str], i: int, variables: dict[str, Any]
) -> tuple[tuple[_Field, ...], int]:
    """The fields of the selection set opening at tokens[i] == "{", and the index after it."""
    fields, i = [], i + 1
    while i < len(tokens) and tokens[i] != "}":
        key = name = tokens[i]
        i += 1  # the field's name (or an alias, or "...")
        if i < len(tokens) and tokens[i] == ":":  # alias: the field's name follows
            name = tokens[i + 1]
            i += 2
        size = None
        if i < len(tokens) and tokens[i] == "(":
            depth = 0
            while True:
                depth += tokens[i] == "("
                depth -= tokens[i] == ")"
                if tokens[i] == "first" and tokens[i + 1] == ":":
                    raw = tokens[i + 2]
                    value = variables.get(raw[1:]) if raw.startswith("$") else raw
                    size = int(str(value)) if str(value).isdigit() else 50
                i += 1
                if depth == 0:
                    break
        children = None
        if i < len(tokens) and tokens[i] == "{":
            children, i = _selection(tokens, i, variables)
        fields.append(_Field(key if key != name else name, size, children))
    return tuple(fields), i + 1


def _updated_since(search: str) -> str | None:
    match = re.search(r"updated_at:>=?'?\"?([0-9T:.+\-Z]+)", search)
    if not match:
        return None
    value = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
    return _iso(value if value.tzinfo else value.replace(tzinfo=UTC))
