"""The sandbox carrier's proof of delivery: decided by the tracking number, on the delivery
scan only, the same by poll and by webhook, with a photo drawn locally."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pytest
from PIL import Image

from carriers.base import WebhookRequest
from carriers.sandbox import SandboxEmitter
from carriers.sandbox.proof import door_photo, proof_payload
from shipflow.clock import FixedClock
from shipflow.domain import ProofOfDelivery
from tests.carriers.test_sandbox import MONDAY_10AM_NY, request, sandbox


@pytest.fixture
def clock():
    return FixedClock(MONDAY_10AM_NY)


def test_each_third_of_parcels_gets_a_signature_a_photo_or_nothing():
    assert proof_payload("SBX4") == {"signed_by": "L. NGUYEN"}
    assert proof_payload("SBX1") is None
    spotted = proof_payload("SBX0")
    assert spotted is not None and spotted["left_at"] == "Back porch"
    kinds = [tuple(sorted(proof_payload(f"SBX{n}") or ())) for n in range(300)]
    assert 70 < kinds.count(("signed_by",)) < 130
    assert 70 < kinds.count(("left_at", "photo")) < 130


def test_the_photo_is_a_small_png_of_a_door_and_a_parcel():
    photo = Image.open(io.BytesIO(door_photo((31, 78, 121), 40)))
    assert (photo.format, photo.size) == ("PNG", (96, 72))
    rgb = photo.convert("RGB")
    assert rgb.getpixel((48, 20)) == (31, 78, 121)  # the door
    assert rgb.getpixel((42, 60)) == (176, 128, 78)  # the parcel
    assert rgb.getpixel((5, 5)) == (222, 214, 196)  # the wall


def _delivered(carrier, clock, tn):
    for _ in range(20):
        (update,) = carrier.track([tn])
        if update.proof_of_delivery or update.latest.raw_code == "DL":
            return update
        clock.advance(timedelta(days=1))
    raise AssertionError("not delivered in 20 days")


def test_polling_carries_the_proof_with_the_delivery_scan_only(clock):
    carrier = sandbox(clock)
    found = {}
    while len(found) < 2:
        tn = carrier.create_label(request()).tracking_number
        kind = tuple(sorted(proof_payload(tn) or ()))
        if kind and kind not in found:
            found[kind] = tn
    (moving,) = carrier.track([found[("signed_by",)]])
    assert moving.proof_of_delivery is None
    signed = _delivered(carrier, clock, found[("signed_by",)])
    assert signed.proof_of_delivery == ProofOfDelivery(
        signed_by=proof_payload(found[("signed_by",)])["signed_by"]
    )
    (pictured,) = carrier.track([found[("left_at", "photo")]])
    photo = base64.b64decode(pictured.proof_of_delivery.photo)
    assert photo.startswith(b"\x89PNG") and pictured.proof_of_delivery.left_at


def test_webhooks_carry_the_same_proof_as_polling(clock):
    carrier, receiver = sandbox(clock), sandbox(clock)
    received = []

    def deliver(url, body, headers):
        received.extend(receiver.parse_webhook(WebhookRequest(headers, body, url)))

    emitter = SandboxEmitter(carrier, deliver)
    tn = next(
        t
        for t in (carrier.create_label(request()).tracking_number for _ in range(30))
        if proof_payload(t)
    )
    emitter.register(tn, "https://shop.example/hooks/sandbox")
    clock.advance(timedelta(days=14))
    emitter.run_once()
    (polled,) = carrier.track([tn])
    proofs = [u.proof_of_delivery for u in received if u.proof_of_delivery]
    assert proofs == [polled.proof_of_delivery] and polled.proof_of_delivery is not None
