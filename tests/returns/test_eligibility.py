from datetime import UTC, datetime, timedelta

import pytest

from shipflow.returns.eligibility import ItemRequest, ReturnPolicy, Verdict, decide

DELIVERED = datetime(2026, 11, 1, 15, tzinfo=UTC)
POLICY = ReturnPolicy(window_days=30, final_sale_skus=frozenset({"MUG"}), auto_approve_up_to=20000)


def item(sku="LANTERN", quantity=1, reason="changed_mind", price=3900, ordered=1, **kw):
    return ItemRequest(sku, quantity, reason, price, ordered, **kw)


@pytest.mark.parametrize(
    ("items", "days_after", "verdict", "codes"),
    [
        ([item()], 5, Verdict.APPROVED, []),
        ([item()], 30, Verdict.APPROVED, []),
        ([item()], 31, Verdict.REFUSED, ["outside_window"]),
        ([item(sku="MUG")], 1, Verdict.REFUSED, ["final_sale"]),
        ([item(), item(sku="MUG")], 1, Verdict.APPROVED, ["final_sale"]),
        ([item(reason="damaged")], 1, Verdict.REFUSED, ["photos_required"]),
        ([item(reason="damaged", photos=2)], 45, Verdict.REVIEW, []),
        ([item(reason="damaged", photos=2)], 61, Verdict.REFUSED, ["outside_window"]),
        ([item(reason="bored")], 1, Verdict.REFUSED, ["reason_not_allowed"]),
        ([item(quantity=2, ordered=1)], 1, Verdict.REFUSED, ["quantity"]),
        ([item(ordered=2, already_returned=2)], 1, Verdict.REFUSED, ["quantity"]),
        ([item(sku="TENT-2P", price=24900)], 1, Verdict.REVIEW, []),
    ],
)
def test_decisions(items, days_after, verdict, codes):
    decision = decide(POLICY, items, DELIVERED, DELIVERED + timedelta(days=days_after, hours=-1))
    assert decision.verdict == verdict
    assert [r.code for r in decision.refusals] == codes


def test_not_delivered_refuses_everything():
    decision = decide(POLICY, [item()], None, DELIVERED)
    assert decision.verdict == Verdict.REFUSED
    assert [r.code for r in decision.refusals] == ["not_delivered"]


def test_refund_amount_counts_only_accepted_items():
    decision = decide(POLICY, [item(quantity=2, ordered=3), item(sku="MUG")], DELIVERED, DELIVERED)
    assert decision.refund_amount == 7800


def test_policy_from_config_overrides_reasons():
    policy = ReturnPolicy.from_config(
        {"window_days": 14, "reasons": {"changed_mind": {"allowed": False}}}, frozenset({"X"})
    )
    assert policy.window_days == 14 and "X" in policy.final_sale_skus
    decision = decide(policy, [item()], DELIVERED, DELIVERED)
    assert decision.refusals[0].code == "reason_not_allowed"
