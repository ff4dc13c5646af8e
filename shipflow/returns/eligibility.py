"""Which items of an order may be returned, and whether a person must look first.

Pure rules over plain data, so the portal, the API and the tests agree. A refusal names the
rule (`code`) and its parameters; the portal words it in the customer's language.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta


class Verdict(enum.StrEnum):
    APPROVED = "approved"
    REVIEW = "review"  # a person decides (value above the auto-approve limit, photos to check)
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class ReasonRule:
    allowed: bool = True
    photos_required: bool = False
    window_days: int | None = None  # overrides the policy's window for this reason


@dataclass(frozen=True, slots=True)
class ReturnPolicy:
    window_days: int = 30
    final_sale_skus: frozenset[str] = frozenset()
    auto_approve_up_to: int = 20000  # minor units of the order currency
    reasons: Mapping[str, ReasonRule] = field(
        default_factory=lambda: {
            "changed_mind": ReasonRule(),
            "wrong_size": ReasonRule(),
            "not_as_described": ReasonRule(),
            "arrived_late": ReasonRule(),
            "damaged": ReasonRule(photos_required=True, window_days=60),
            "wrong_item": ReasonRule(window_days=60),
        }
    )

    @classmethod
    def from_config(
        cls, data: Mapping, final_sale_skus: frozenset[str] = frozenset()
    ) -> ReturnPolicy:
        defaults = cls()
        reasons = dict(defaults.reasons)
        for name, rule in (data.get("reasons") or {}).items():
            reasons[name] = ReasonRule(**rule)
        return cls(
            window_days=int(data.get("window_days", defaults.window_days)),
            final_sale_skus=final_sale_skus | frozenset(data.get("final_sale_skus", ())),
            auto_approve_up_to=int(data.get("auto_approve_up_to", defaults.auto_approve_up_to)),
            reasons=reasons,
        )


@dataclass(frozen=True, slots=True)
class ItemRequest:
    sku: str
    quantity: int
    reason: str
    unit_price: int
    ordered_quantity: int
    already_returned: int = 0
    photos: int = 0


@dataclass(frozen=True, slots=True)
class Refusal:
    sku: str
    code: str  # final_sale | outside_window | reason_not_allowed | photos_required | quantity
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    accepted: tuple[ItemRequest, ...]
    refusals: tuple[Refusal, ...]
    refund_amount: int
    why: str

    @property
    def label_allowed(self) -> bool:
        return self.verdict is Verdict.APPROVED


def _refusal(policy: ReturnPolicy, item: ItemRequest, delivered_at: datetime, now: datetime):
    if item.sku in policy.final_sale_skus:
        return Refusal(item.sku, "final_sale")
    rule = policy.reasons.get(item.reason)
    if rule is None or not rule.allowed:
        return Refusal(item.sku, "reason_not_allowed", {"reason": item.reason})
    window = rule.window_days if rule.window_days is not None else policy.window_days
    deadline = delivered_at + timedelta(days=window)
    if now > deadline:
        return Refusal(item.sku, "outside_window", {"days": window, "deadline": deadline.date()})
    if item.quantity < 1 or item.quantity > item.ordered_quantity - item.already_returned:
        remaining = item.ordered_quantity - item.already_returned
        return Refusal(item.sku, "quantity", {"remaining": remaining})
    if rule.photos_required and item.photos == 0:
        return Refusal(item.sku, "photos_required", {"reason": item.reason})
    return None


def decide(
    policy: ReturnPolicy,
    items: Sequence[ItemRequest],
    delivered_at: datetime | None,
    now: datetime,
) -> Decision:
    """Judge a return request. Nothing is returnable before delivery."""
    if delivered_at is None:
        not_delivered = tuple(Refusal(i.sku, "not_delivered") for i in items)
        return Decision(
            Verdict.REFUSED, (), not_delivered, 0, "the order has not been delivered yet"
        )
    accepted: list[ItemRequest] = []
    refusals: list[Refusal] = []
    for item in items:
        refusal = _refusal(policy, item, delivered_at, now)
        if refusal:
            refusals.append(refusal)
        else:
            accepted.append(item)
    value = sum(i.unit_price * i.quantity for i in accepted)
    if not accepted:
        return Decision(Verdict.REFUSED, (), tuple(refusals), 0, "no item can be returned")
    photos_to_check = any(policy.reasons[i.reason].photos_required for i in accepted)
    if value > policy.auto_approve_up_to or photos_to_check:
        why = "photos to check" if photos_to_check else "value above the auto-approve limit"
        return Decision(Verdict.REVIEW, tuple(accepted), tuple(refusals), value, why)
    return Decision(Verdict.APPROVED, tuple(accepted), tuple(refusals), value, "within policy")
