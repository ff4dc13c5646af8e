"""How customers rate their deliveries, per carrier."""

from __future__ import annotations

from flask import g
from flask_openapi3 import Tag
from pydantic import BaseModel

from shipflow import feedback
from shipflow.web.api.routes import bp

TAG = Tag(name="feedback")


class CarrierFeedback(BaseModel):
    carrier: str
    responses: int
    mean_score: float
    nps: float


class FeedbackReport(BaseModel):
    data: list[CarrierFeedback]


@bp.get("/feedback-report", tags=[TAG], responses={200: FeedbackReport})
def feedback_report():
    """Per carrier: answers, mean 0-10 score and Net Promoter Score (-100..100)."""
    return {"data": feedback.report(g.db, g.brand_id)}
