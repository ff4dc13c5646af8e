"""The sandbox carrier as a local HTTP service, for the demo and for end-to-end runs:

    python -m carriers.sandbox.server --port 8900 --webhook-url http://localhost:8000/webhooks/sandbox

`POST /v1/labels` creates a label, `GET /v1/labels/<number>` returns its PDF,
`GET /v1/tracking/<number>` answers polls, and a background loop posts signed webhooks.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, abort, jsonify, request

from carriers.base import CarrierAccount, CarrierRejected, ShipmentRequest
from carriers.sandbox.carrier import SandboxCarrier
from carriers.sandbox.emitter import SandboxEmitter
from shipflow.clock import AcceleratedClock, Clock, SystemClock
from shipflow.domain import Address, Money, Parcel, PickupPoint


def _shipment_request(body: dict[str, Any]) -> ShipmentRequest:
    """`cash_on_delivery`: {"amount", "currency"}; `pickup_point`: {"id"} of a sandbox store."""
    cod, point = body.get("cash_on_delivery"), body.get("pickup_point")
    return ShipmentRequest(
        shipper=Address(**body["shipper"]),
        recipient=Address(**body["recipient"]),
        parcels=[Parcel(**p) for p in body.get("parcels") or [{"weight_g": 500}]],
        service=body.get("service", "ground"),
        reference=body.get("reference", ""),
        cash_on_delivery=Money(cod["amount"], cod["currency"]) if cod else None,
        pickup_point=PickupPoint(point["id"]) if point else None,
    )


def build_app(carrier: SandboxCarrier, emitter: SandboxEmitter, webhook_url: str = "") -> Flask:
    app = Flask(__name__)
    pdfs: dict[str, bytes] = {}

    @app.post("/v1/labels")
    def create_label():
        body = request.get_json(force=True)
        try:
            shipment = _shipment_request(body)
        except (KeyError, TypeError) as exc:
            return jsonify(error=f"bad label request: {exc}"), 400
        try:
            create = carrier.create_return_label if body.get("is_return") else carrier.create_label
            label = create(shipment)
        except CarrierRejected as exc:
            return jsonify(error=str(exc), code=exc.carrier_code), 422
        pdfs[label.tracking_number] = label.label_data
        if webhook_url:
            emitter.register(label.tracking_number, webhook_url)
        price = label.price
        return jsonify(
            tracking_number=label.tracking_number,
            service=label.service,
            price={"amount": price.amount, "currency": price.currency} if price else None,
            label_url=f"/v1/labels/{label.tracking_number}",
        ), 201

    @app.get("/v1/labels/<tracking_number>")
    def label_document(tracking_number: str):
        if tracking_number not in pdfs:
            abort(404)
        return Response(pdfs[tracking_number], mimetype="application/pdf")

    @app.get("/v1/tracking/<tracking_number>")
    def tracking(tracking_number: str):
        payload = carrier.tracking_payload(tracking_number)
        return jsonify(payload) if payload else (jsonify(error="tracking number not found"), 404)

    return app


def _post_webhooks_forever(emitter: SandboxEmitter, interval: float) -> None:
    while True:
        emitter.run_once()
        time.sleep(interval)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--webhook-url", default="")
    parser.add_argument("--secret", help="webhook signing secret (default: a new random one)")
    parser.add_argument("--seed", default="sandbox")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between webhook runs")
    args = parser.parse_args(argv)
    if not args.secret:
        args.secret = secrets.token_urlsafe(32)
        print(f"webhook secret (the shipflow account's credentials.webhook_secret): {args.secret}")
    clock: Clock = (
        AcceleratedClock(datetime.now(UTC), args.speed) if args.speed != 1 else SystemClock()
    )
    account = CarrierAccount("sandbox", "local", {"seed": args.seed, "webhook_secret": args.secret})
    carrier = SandboxCarrier(account, clock=clock)
    emitter = SandboxEmitter(carrier)
    if args.webhook_url:
        threading.Thread(
            target=_post_webhooks_forever, args=(emitter, args.interval), daemon=True
        ).start()
    build_app(carrier, emitter, args.webhook_url).run(port=args.port)


if __name__ == "__main__":
    main()
