"""What the EDD widget asks: "if I order this now, when will it reach this postal code?"

Answered by the EDD engine through `shipflow.edd.service`; the response shape:

    {"available": true, "promise_date": "2026-11-26", "earliest": "2026-11-25",
     "most_likely": "2026-11-25", "latest": "2026-11-27",
     "cutoff_at": "2026-11-23T19:00:00+00:00", "countdown_seconds": 8040, "warehouse": "EWR",
     "carrier": "sandbox", "service": "ground", "confidence": 0.95, "basis": {...}}
    {"available": false, "reason": "out_of_stock", "detail": "..."}

Bad input comes back as an ApiProblem naming the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shipflow.config import BrandConfig
from shipflow.domain import ServiceLevel
from shipflow.edd.service import InvalidQuery, widget_answer
from shipflow.web.problems import ApiProblem, field_problem

if TYPE_CHECKING:
    from shipflow.runtime import Runtime


def estimate_for_widget(
    runtime: Runtime,
    brand: BrandConfig,
    sku: str,
    postal_code: str,
    country: str,
    now: datetime,
    level: ServiceLevel = ServiceLevel.STANDARD,
) -> dict | ApiProblem:
    try:
        result = runtime.edd.quote(brand, sku, postal_code, country, now, level)
    except InvalidQuery as bad:
        return field_problem(bad.field, bad.message, bad.status)
    return widget_answer(result, now)
