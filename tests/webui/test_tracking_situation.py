"""The tracking page's first words in every state, as one literal table: status and facts
-> headline, date line, advice. A date line of (label, None) is the honest "we're checking
with the carrier"."""

from datetime import date

import pytest

from shipflow.domain import Status
from shipflow.web.tracking_page.presenter import situation

TODAY = date(2026, 12, 10)
PAST, AHEAD = date(2026, 12, 8), date(2026, 12, 12)


@pytest.mark.parametrize(
    ("status", "reason", "facts", "headline", "date_line", "advice", "overdue"),
    [
        (Status.PENDING, None, {"predicted": AHEAD}, "Order received",
         ("Expected delivery", AHEAD),
         "You don't need to do anything. We'll let you know when it ships.", False),
        (Status.INFO_RECEIVED, None, {"predicted": AHEAD}, "Label created",
         ("Expected delivery", AHEAD),
         "You don't need to do anything. We'll let you know when it moves.", False),
        (Status.IN_TRANSIT, None, {"predicted": AHEAD}, "On its way",
         ("Expected delivery", AHEAD),
         "You don't need to do anything; we're keeping an eye on it.", False),
        (Status.IN_TRANSIT, None, {"predicted": TODAY}, "On its way",
         ("Expected delivery", TODAY),
         "You don't need to do anything; we're keeping an eye on it.", False),
        (Status.IN_TRANSIT, None, {"predicted": PAST}, "On its way",
         ("Expected delivery", None),
         "You don't need to do anything; we're keeping an eye on it.", True),
        (Status.IN_TRANSIT, None, {}, "On its way", None,
         "You don't need to do anything; we're keeping an eye on it.", False),
        (Status.OUT_FOR_DELIVERY, None, {"predicted": PAST}, "Out for delivery",
         ("Expected delivery", TODAY), "Please make sure someone can receive it today.", False),
        (Status.ATTEMPT_FAILED, "customer_unavailable", {}, "Delivery attempt failed", None,
         "Choose a new delivery day with the link in our latest message, or contact us.", False),
        (Status.ATTEMPT_FAILED, "customer_unavailable", {"redelivery_on": AHEAD},
         "Redelivery booked", ("Redelivery on", AHEAD),
         "Please make sure someone can receive it that day.", False),
        (Status.ATTEMPT_FAILED, None, {"redelivery_on": PAST}, "Delivery attempt failed", None,
         "Choose a new delivery day with the link in our latest message, or contact us.", False),
        (Status.AVAILABLE_FOR_PICKUP, None, {"collect_by": AHEAD}, "Ready for pickup",
         ("Collect by", AHEAD), "Bring an ID and your tracking number to collect it.", False),
        (Status.AVAILABLE_FOR_PICKUP, None, {}, "Ready for pickup", None,
         "Bring an ID and your tracking number to collect it.", False),
        (Status.RETURNING_TO_SENDER, "not_collected", {"predicted": AHEAD},
         "On its way back to us", None,
         "You don't need to do anything. We'll contact you about a refund or a new delivery.",
         False),
        (Status.RETURNING_TO_SENDER, None, {"predicted": PAST}, "On its way back to us", None,
         "You don't need to do anything. We'll contact you about a refund or a new delivery.",
         False),
        (Status.RETURNED_TO_SENDER, None, {"predicted": AHEAD}, "Returned to us", None,
         "Contact us if you'd like it sent again or refunded.", False),
        (Status.EXCEPTION, "lost", {"predicted": AHEAD}, "We can't find your parcel", None,
         "We'll contact you with a replacement or a refund if it isn't found.", False),
        (Status.EXCEPTION, "weather", {"predicted": AHEAD},
         "There's a problem with your delivery", ("Expected delivery", None),
         "You don't need to do anything yet. We'll contact you if we need you.", False),
        (Status.DELIVERED, None, {"delivered_on": PAST, "predicted": AHEAD}, "Delivered",
         ("Delivered on", PAST),
         "Can't find it? Check around your door and with neighbours, then contact us.", False),
        (Status.CANCELLED, None, {"predicted": AHEAD}, "Shipment cancelled", None,
         "Contact us if you didn't expect this or have been charged.", False),
        (Status.EXPIRED, None, {"predicted": PAST}, "No recent updates",
         ("Expected delivery", None),
         "You don't need to do anything yet. We'll contact you if we need you.", False),
    ],
)  # fmt: skip
def test_each_state_says_its_own_headline_date_and_advice(
    status, reason, facts, headline, date_line, advice, overdue
):
    found = situation(status, reason, TODAY, **facts)
    line = (found.date_label, found.day) if found.date_label else None
    assert (found.headline, line, found.advice, found.overdue) == (
        headline,
        date_line,
        advice,
        overdue,
    )


@pytest.mark.parametrize(
    ("status", "facts", "coming"),
    [
        (Status.IN_TRANSIT, {"predicted": AHEAD}, True),
        (Status.IN_TRANSIT, {"predicted": PAST}, False),
        (Status.RETURNING_TO_SENDER, {"predicted": AHEAD}, False),
        (Status.DELIVERED, {"delivered_on": PAST}, False),
    ],
)
def test_only_a_parcel_still_coming_may_be_called_late_or_delivering(status, facts, coming):
    assert situation(status, None, TODAY, **facts).coming is coming
