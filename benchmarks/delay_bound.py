"""The most a delay warning could reach on a history at the naive rule's moment: every parcel
not delivered N hours before its promise ends (that set holds every late parcel), judged on
every input known then, by classifiers fitted on the test period itself.

A rule that warns earlier cannot do better at the same lead: every late parcel is still in
flight at that moment, so keeping an earlier rule's warnings of parcels still in flight then
warns the same late parcels and fewer on-time ones. Fitting on the test period cheats on
purpose (it knows the period's own outcomes, never the judged parcel's): cross-fitted in 5
folds it estimates the best any rule on these inputs could reach; refitted on all of it and
scored on the same parcels ("in-sample") it also shows what memorising them would reach.
`--hindsight` adds what no rule can know: each parcel's neighbours' outcomes (its
destination's, its lane's and the whole network's late share among promises ending within a
week of its own, and its destination's handover cohort's median transit), read from the
other half of the history so its own outcome never enters them.

    python -m benchmarks.delay_bound --history ../shared/data/edd/olist_history_2016_2017.csv \
        --test-from 2017-07-01 [--hindsight]
"""

from __future__ import annotations

import argparse
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmarks.edd_accuracy import DEFAULT_TABLE, load_postal_table
from shipflow import geo
from shipflow.delays.days import days_between
from shipflow.delays.risk import day_end
from shipflow.edd.history import HistoryRecord, read_history

LEADS_HOURS = (120, 72)
PRECISIONS = (0.7, 0.85)  # the targets' (docs/benchmarks.md, issue #18)
WINDOWS = (14, 28, 365)  # days of finished promises behind a late share
CATEGORIES = 250  # most frequent values kept of a categorical input, the rest one "other"
Key = Callable[[HistoryRecord], object]
GROUPS: dict[str, Key] = {
    "lane": lambda r: (r.origin_state, r.destination_state),
    "destination": lambda r: r.destination_state,
    "area": lambda r: r.destination_postal_code[:3],
    "seller": lambda r: r.shipper_id,
}
WITH_ALL: dict[str, Key] = {**GROUPS, "all": lambda r: ""}  # "all": the whole network
CATEGORICAL: dict[str, Key] = {**GROUPS, "origin": lambda r: r.origin_state}
IN_FLIGHT = ("lane", "destination", "all")  # the groups whose parcels in flight are counted
HINDSIGHT_DAYS = {"lane": 7, "destination": 7, "all": 3}  # promises ending this near, each side


def late(record: HistoryRecord, deadline: datetime) -> bool:
    return record.delivered_at is None or record.delivered_at > deadline


class Deliveries:
    """One group's deliveries in order of delivery: what is known at a moment is a prefix."""

    def __init__(self, records: Sequence[tuple[HistoryRecord, datetime]]) -> None:
        done = sorted((r for r in records if r[0].delivered_at), key=lambda r: r[0].delivered_at)
        self.when = [r.delivered_at for r, _ in done]
        self.transit = np.array(
            [
                days_between(r.handed_to_carrier_at, r.delivered_at)
                if r.handed_to_carrier_at
                else np.nan
                for r, _ in done
            ]
        )
        self.total = np.array([days_between(r.ordered_at, r.delivered_at) for r, _ in done])
        self.late = np.array([late(r, d) for r, d in done], dtype=float)

    def known(self, at: datetime, days: int) -> slice:
        return slice(bisect_left(self.when, at - timedelta(days=days)), bisect_left(self.when, at))


class Ended:
    """Promises in order of their end, with their outcomes: a running late count."""

    def __init__(self, ends: Sequence[tuple[datetime, bool]]) -> None:
        ends = sorted(ends)
        self.when = [d for d, _ in ends]
        self.late = np.r_[0, np.cumsum([x for _, x in ends])]

    def share(self, start: datetime, end: datetime, right: bool = False) -> float:
        lo = bisect_left(self.when, start)
        hi = (bisect_right if right else bisect_left)(self.when, end)
        return (self.late[hi] - self.late[lo]) / (hi - lo) if hi > lo else np.nan


def survival(times: np.ndarray, elapsed: float, left: float) -> float:
    """P(T > elapsed + left | T > elapsed) among delivered times, smoothed."""
    times = times[~np.isnan(times)]
    alive, beyond = (times > elapsed).sum(), (times > elapsed + left).sum()
    return (beyond + 0.5) / (alive + 1.0) if len(times) else np.nan


def _median(values: np.ndarray, q: float = 50) -> float:
    values = values[~np.isnan(values)]
    return float(np.percentile(values, q)) if len(values) else np.nan


def _half(record: HistoryRecord) -> int:
    return zlib.crc32(record.order_id.encode()) % 2


def inputs(
    records: Sequence[HistoryRecord],
    deadlines: dict[str, datetime],
    flagged: Sequence[HistoryRecord],
    lead: timedelta,
    start: datetime,
    hindsight: bool,
) -> tuple[np.ndarray, list[str]]:
    """Every input known at each flagged parcel's naive moment (and `hindsight`'s, if asked);
    names ending in "#" are categorical codes."""
    pairs = [(r, deadlines[r.order_id]) for r in records]
    delivered = {g: _grouped(pairs, key, Deliveries) for g, key in GROUPS.items()}
    ended = {g: _grouped(pairs, key, _ended) for g, key in WITH_ALL.items()}
    halves = {
        g: _grouped(pairs, lambda r, k=WITH_ALL[g]: (_half(r), k(r)), _ended)
        for g in HINDSIGHT_DAYS
    }
    cohorts = _grouped(pairs, lambda r: (_half(r), r.destination_state), _Cohort)
    by_order = sorted(records, key=lambda r: r.ordered_at)
    order_times = [r.ordered_at for r in by_order]
    codes = {
        g: {v: i for i, (v, _) in enumerate(Counter(map(key, flagged)).most_common(CATEGORIES))}
        for g, key in CATEGORICAL.items()
    }
    rows, names = [], []
    for r in flagged:
        deadline = deadlines[r.order_id]
        at, left = deadline - lead, lead.total_seconds() / 86400
        handed = r.handed_to_carrier_at is not None and r.handed_to_carrier_at <= at
        in_transit = days_between(r.handed_to_carrier_at, at) if handed else np.nan
        elapsed = days_between(r.ordered_at, at)
        promise = days_between(r.ordered_at, deadline)
        f: dict[str, float] = {
            "days since order": elapsed,
            "handed over": float(handed),
            "days since handover": in_transit,
            "handling days": days_between(r.ordered_at, r.handed_to_carrier_at)
            if handed
            else np.nan,
            "promise days": promise,
            "order hour": r.ordered_at.hour + r.ordered_at.minute / 60,
            "order weekday": r.ordered_at.weekday(),
            "handover weekday": r.handed_to_carrier_at.weekday() if handed else -1,
            "promise end weekday": (deadline - timedelta(days=1)).weekday(),
            "order month": r.ordered_at.month,
            "items": r.items,
            "distance km": _distance(r),
            "days into the test period": days_between(start, at),
        }
        for g, key in GROUPS.items():
            d = delivered[g].get(key(r))
            year = d.known(at, 365) if d else slice(0)
            transit = d.transit[year] if d else np.array([])
            total = d.total[year] if d else np.array([])
            recent = d.transit[d.known(at, 14)] if d else np.array([])
            f |= {
                f"{g}: deliveries": len(total),
                f"{g}: median transit": _median(transit),
                f"{g}: 80th percentile transit": _median(transit, 80),
                f"{g}: median order to delivery": _median(total),
                f"{g}: late share of deliveries": float(d.late[year].mean())
                if len(total)
                else np.nan,
                f"{g}: chance beyond, from handover": survival(transit, in_transit, left)
                if handed
                else np.nan,
                f"{g}: chance beyond, from order": survival(total, elapsed, left),
                f"{g}: promise slack": promise - _median(total),
                f"{g}: median transit, last 14 days": _median(recent),
            }
        for g, key in WITH_ALL.items():
            e = ended[g].get(key(r))
            for w in WINDOWS:
                f[f"{g}: late share of promises ended, {w} days"] = (
                    e.share(at - timedelta(days=w), at) if e else np.nan
                )
        for g in IN_FLIGHT:
            key = WITH_ALL[g]
            flying = [
                q
                for q in by_order[
                    bisect_left(order_times, at - timedelta(days=60)) : bisect_left(order_times, at)
                ]
                if key(q) == key(r) and not (q.delivered_at and q.delivered_at <= at)
            ]
            f[f"{g}: in flight"] = len(flying)
            f[f"{g}: in flight past their promise"] = (
                sum(deadlines[q.order_id] <= at for q in flying) / len(flying) if flying else np.nan
            )
        for g, key in CATEGORICAL.items():
            f[f"{g}#"] = codes[g].get(key(r), CATEGORIES)
        if hindsight:
            other = 1 - _half(r)
            for g, days in HINDSIGHT_DAYS.items():
                e = halves[g].get((other, WITH_ALL[g](r)))
                span = timedelta(days=days)
                f[f"hindsight: {g} late share"] = (
                    e.share(deadline - span, deadline + span, True) if e else np.nan
                )
            c = cohorts.get((other, r.destination_state))
            f["hindsight: destination cohort's median transit"] = (
                c.median(r) if c and handed else np.nan
            )
        names = list(f)
        rows.append([f[n] for n in names])
    return np.array(rows, dtype=float), names


def _ended(pairs: Sequence[tuple[HistoryRecord, datetime]]) -> Ended:
    return Ended([(deadline, late(r, deadline)) for r, deadline in pairs])


class _Cohort:
    """Transit times by handover: the median of those handed over within 3 days of a parcel."""

    def __init__(self, records: Sequence[tuple[HistoryRecord, datetime]]) -> None:
        done = sorted(
            (r.handed_to_carrier_at, days_between(r.handed_to_carrier_at, r.delivered_at))
            for r, _ in records
            if r.handed_to_carrier_at and r.delivered_at
        )
        self.when = [w for w, _ in done]
        self.transit = np.array([t for _, t in done])

    def median(self, record: HistoryRecord) -> float:
        handed, span = record.handed_to_carrier_at, timedelta(days=3)
        lo, hi = bisect_left(self.when, handed - span), bisect_right(self.when, handed + span)
        return float(np.median(self.transit[lo:hi])) if hi > lo else np.nan


def _grouped(pairs, key, make) -> dict:
    groups = defaultdict(list)
    for pair in pairs:
        groups[key(pair[0])].append(pair)
    return {k: make(v) for k, v in groups.items()}


def _distance(record: HistoryRecord) -> float:
    a = geo.locate(record.origin_country, record.origin_postal_code)
    b = geo.locate(record.destination_country, record.destination_postal_code)
    found = geo.distance_km(a, b) if a and b else None
    return np.nan if found is None else found


def best(chances: np.ndarray, y: np.ndarray) -> list[float]:
    """AUC, the highest recall of the late parcels at each of `PRECISIONS` over every
    threshold, and the highest point where recall equals precision."""
    order = np.argsort(-chances, kind="stable")
    ranked = y[order].astype(float)
    distinct = np.r_[chances[order][1:] != chances[order][:-1], True]
    hits, warned = np.cumsum(ranked)[distinct], np.arange(1, len(y) + 1)[distinct]
    precision, recall = hits / warned, hits / y.sum()
    at = [recall[precision >= p].max(initial=0.0) for p in PRECISIONS]
    return [roc_auc_score(y, chances), *at, float(np.minimum(precision, recall).max())]


def trees(names: Sequence[str], leaves: int, iterations: int, leaf_size: int, rate: float):
    return lambda: HistGradientBoostingClassifier(
        max_iter=iterations,
        learning_rate=rate,
        max_leaf_nodes=leaves,
        min_samples_leaf=leaf_size,
        l2_regularization=1.0,
        categorical_features=[n.endswith("#") for n in names],
        random_state=0,
    )


def logistic():
    return make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=5000))


def cross_fitted(make, x: np.ndarray, y: np.ndarray, seeds: int = 3) -> list[list[float]]:
    """`best` of out-of-fold chances (5 folds), once per shuffle."""
    scores = []
    for seed in range(seeds):
        chances = np.zeros(len(y))
        for fit, judged in StratifiedKFold(5, shuffle=True, random_state=seed).split(x, y):
            chances[judged] = make().fit(x[fit], y[fit]).predict_proba(x[judged])[:, 1]
        scores.append(best(chances, y))
    return scores


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", required=True)
    parser.add_argument("--test-from", type=date.fromisoformat, default=date(2017, 7, 1))
    parser.add_argument("--zone", default="America/Sao_Paulo")
    parser.add_argument("--hindsight", action="store_true")
    args = parser.parse_args(argv)
    table = Path(args.history).with_name(DEFAULT_TABLE)
    if table.exists():
        load_postal_table(str(table))
    with open(args.history, newline="") as file:
        records, _ = read_history(file, args.zone)
    records = [r for r in records if r.promised_date]
    deadlines = {r.order_id: day_end(r.promised_date, args.zone) for r in records}
    start = datetime.combine(args.test_from, time(), ZoneInfo(args.zone))
    tests = [r for r in records if r.ordered_at >= start]
    for hours in LEADS_HOURS:
        lead = timedelta(hours=hours)
        flagged = [
            r
            for r in tests
            if r.ordered_at < deadlines[r.order_id] - lead
            and not (r.delivered_at and r.delivered_at <= deadlines[r.order_id] - lead)
        ]
        x, names = inputs(records, deadlines, flagged, lead, start, args.hindsight)
        y = np.array([late(r, deadlines[r.order_id]) for r in flagged])
        numeric = [i for i, n in enumerate(names) if not n.endswith("#")]
        print(
            f"\n## {hours} h ahead: {len(flagged)} parcels not delivered by then of {len(tests)}, "
            f"{y.sum()} late of {sum(late(r, deadlines[r.order_id]) for r in tests)} "
            f"(naive precision {100 * y.mean():.1f} %); {len(names)} inputs\n"
        )
        print(
            "| classifier | fitted | AUC | "
            + " | ".join(f"recall at {100 * p:.0f} % precision" for p in PRECISIONS)
            + " | recall = precision |"
        )
        print("|---|---|---:|" + "---:|" * (len(PRECISIONS) + 1))
        product = trees(names, 15, 200, 20, 0.05)  # shipflow.delays.boosted's settings
        small = trees(names, 7, 100, 40, 0.05)
        rows = [
            (
                "logistic (numeric inputs)",
                "in-sample",
                [best(logistic().fit(x[:, numeric], y).predict_proba(x[:, numeric])[:, 1], y)],
            ),
            (
                "trees, 200 x 15 leaves (the product's)",
                "in-sample",
                [best(product().fit(x, y).predict_proba(x)[:, 1], y)],
            ),
            ("logistic (numeric inputs)", "5 folds x 3", cross_fitted(logistic, x[:, numeric], y)),
            ("trees, 200 x 15 leaves", "5 folds x 3", cross_fitted(product, x, y)),
            ("trees, 100 x 7 leaves of 40", "5 folds x 3", cross_fitted(small, x, y)),
        ]
        for name, fitted, scores in rows:
            cells = [
                f"{np.mean(s):.3f}"
                if i == 0
                else f"{100 * np.mean(s):.1f} %"
                + (f" ({100 * min(s):.1f}-{100 * max(s):.1f})" if len(s) > 1 else "")
                for i, s in enumerate(zip(*scores, strict=True))
            ]
            print(f"| {name} | {fitted} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
