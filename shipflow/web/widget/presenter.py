"""What the EDD widget asks: "if I order this (or this cart) now, when will it reach this
postal code, and at what price for each service level?"

Answered by the EDD engine through `shipflow.edd.service`; the response shape:

    {"available": true, "level": "standard", "promise_date": "2026-11-26",
     "earliest": "2026-11-25", "most_likely": "2026-11-25", "latest": "2026-11-27",
     "cutoff_at": "2026-11-23T19:00:00+00:00", "countdown_seconds": 8040, "warehouse": "EWR",
     "carrier": "sandbox", "service": "ground", "confidence": 0.95, "basis": {...},
     "price": {"amount": 595, "currency": "USD", "text": "$5.95"},
     "options": [{"level": "standard", ...}, {"level": "express", ...}]}  # asked for levels
    {"available": false, "reason": "out_of_stock" | "no_estimate"}
    {"available": false, "reason": "not_served", "reach": "military" | "territory"}

Bad input comes back as an ApiProblem naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from shipflow.config import BrandConfig
from shipflow.domain import ServiceLevel
from shipflow.edd.service import InvalidQuery, Lines, widget_answer
from shipflow.web.i18n import format_money
from shipflow.web.problems import ApiProblem, field_problem

if TYPE_CHECKING:
    from shipflow.runtime import Runtime


def estimate_for_widget(
    runtime: Runtime,
    brand: BrandConfig,
    lines: Lines,
    postal_code: str,
    country: str,
    now: datetime,
    levels: Sequence[ServiceLevel] = (ServiceLevel.STANDARD,),
    language: str = "en",
) -> dict | ApiProblem:
    """The first level's answer; with more levels, every level the brand offers that can
    deliver there under `options` too (a level the brand lacks is left out, not an error)."""
    answers: list[dict] = []
    for level in levels:
        try:
            result = runtime.edd.quote(brand, lines, postal_code, country, now, level)
        except InvalidQuery as bad:
            if bad.field == "service_level" and answers:
                continue
            return field_problem(bad.field, bad.message, bad.status)
        answer = {"level": level.value} | widget_answer(result, now)
        if answer["available"]:
            answer["price"] = _price(runtime, brand, answer, language)
        answers.append(answer)
    first = answers[0]
    if len(levels) == 1:
        return first
    return first | {"options": [a for a in answers if a["available"]]}


def _price(runtime: Runtime, brand: BrandConfig, answer: dict, language: str) -> dict | None:
    amount = runtime.edd.setup(brand).prices.get(f"{answer['carrier']}:{answer['service']}")
    if amount is None:
        return None
    text = format_money(amount, brand.currency, language)
    return {"amount": amount, "currency": brand.currency, "text": text}
