"""Customer feedback after delivery: one 0-10 answer per shipment, kept with its carrier, and
the per-carrier Net Promoter Score (share of 9-10 minus share of 0-6, in points)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shipflow.store.feedback_models import Feedback
from shipflow.store.models import Shipment

COMMENT_MAX = 2000


class FeedbackRefused(ValueError):
    """The answer cannot be taken (no delivery yet, score out of range)."""


class NotDelivered(FeedbackRefused):
    """Feedback opens once the parcel is delivered."""


def record(
    session: Session,
    shipment: Shipment,
    score: int | None,
    comment: str,
    language: str,
    now: datetime,
) -> bool:
    """Store the answer (stamped `now`, the runtime's clock); False if the shipment was
    answered already (the first one stays). `score` None: a form sent without a number."""
    if shipment.status != "delivered":
        raise NotDelivered("feedback opens once the parcel is delivered")
    if score is None or not 0 <= score <= 10:
        raise FeedbackRefused("the score goes from 0 to 10")
    row = Feedback(
        brand_id=shipment.brand_id,
        shipment_id=shipment.id,
        carrier=shipment.carrier,
        score=score,
        comment=comment.strip()[:COMMENT_MAX],
        language=language,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def answered(session: Session, shipment_id: str) -> bool:
    return (
        session.scalar(select(Feedback.id).where(Feedback.shipment_id == shipment_id)) is not None
    )


def report(session: Session, brand_id: str) -> list[dict]:
    """Per carrier: answers, mean score and NPS."""
    promoters = func.sum(case((Feedback.score >= 9, 1), else_=0))
    detractors = func.sum(case((Feedback.score <= 6, 1), else_=0))
    rows: Sequence[Row[str, int, float, int, int]] = session.execute(
        select(
            Feedback.carrier,
            func.count(),
            func.avg(Feedback.score),
            promoters,
            detractors,
        )
        .where(Feedback.brand_id == brand_id)
        .group_by(Feedback.carrier)
        .order_by(Feedback.carrier)
    ).all()
    return [
        {
            "carrier": carrier,
            "responses": count,
            "mean_score": round(float(mean), 2),
            "nps": round(100 * (int(good) - int(bad)) / count, 1),
        }
        for carrier, count, mean, good, bad in rows
    ]
