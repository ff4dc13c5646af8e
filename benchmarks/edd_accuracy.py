"""Score the delivery-date engine on a delivered history, the way production would have run it.

For an order placed at t the model knows only orders delivered before t; it is retrained on the
1st and the 15th of every month. Prints shipflow's figures next to the history's own promise.

    python -m benchmarks.edd_accuracy --history ../shared/data/edd/olist_history_2016_2017.csv \
        --test-from 2017-07-01 --zone America/Sao_Paulo --sandbox 20000

The postal-prefix table defaults to `br_postal_prefix_centroids.csv` next to the history.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.disruptions import disrupted
from benchmarks.edd_synthetic import synthetic_history
from carriers.sandbox.services import SERVICES, add_working_days
from shipflow import geo
from shipflow.config import BrandConfig
from shipflow.delays.risk_history import refit_days
from shipflow.demo.history import ZONES, demo_brand, sandbox_history
from shipflow.edd.backlog import SETTLED_DAYS, Backlog, Calendars, WorkingTime, stretches
from shipflow.edd.calibration import calibration_from
from shipflow.edd.dates import DatePMF, date_pmf
from shipflow.edd.engine import Levels
from shipflow.edd.history import HistoryRecord, read_history
from shipflow.edd.learned import observed_delivery_weekdays
from shipflow.edd.training import history_quote, train
from shipflow.edd.transit import ModelConfig, TransitModel

DEFAULT_TABLE = "br_postal_prefix_centroids.csv"
CONFIDENCES = (0.8, 0.9, 0.95, 0.97, 0.99)
BR_REGIONS = {
    **dict.fromkeys(["AC", "AP", "AM", "PA", "RO", "RR", "TO"], "N"),
    **dict.fromkeys(["AL", "BA", "CE", "MA", "PB", "PE", "PI", "RN", "SE"], "NE"),
    **dict.fromkeys(["DF", "GO", "MT", "MS"], "CO"),
    **dict.fromkeys(["ES", "MG", "RJ", "SP"], "SE"),
    **dict.fromkeys(["PR", "RS", "SC"], "S"),
}


@dataclass
class Quoted:
    """One scored order: the actual date and what a promiser said (None fields: not stated)."""

    actual: date
    promised: date | None
    most_likely: date | None = None
    earliest: date | None = None
    latest: date | None = None
    at_confidence: dict[float, date] = field(default_factory=dict)


def load_postal_table(path: str) -> None:
    """Brazilian 5-digit CEP prefixes -> centroid, state and macro-region (benchmark only)."""
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    for country in {r["country"] for r in rows}:
        geo.register_postal_table(
            country,
            {
                r["postal_prefix"]: (r["lat"], r["lng"], r["state"], BR_REGIONS.get(r["state"], ""))
                for r in rows
                if r["country"] == country
            },
        )


def retrain_dates(first: datetime, last: datetime, every_days: int = 0) -> list[datetime]:
    """The risk learning's refit days (`refit_days`: the 1st and 15th of each month) from
    `first` (itself included) past `last`, at midnight in `first`'s zone; with
    `every_days`, every that many days instead (production retrains daily)."""
    if every_days:
        steps = (last - first).days // every_days + 2
        return [first + timedelta(days=k * every_days) for k in range(steps)]
    days = refit_days(first.date(), last.astimezone(first.tzinfo).date())
    later = sorted(day for day in days if day > first.date())
    return [first, *(datetime.combine(day, time(), first.tzinfo) for day in later)]


def score_shipflow(
    records: Sequence[HistoryRecord],
    test_from: datetime,
    zone: str,
    cutoffs: dict | None = None,
    config: ModelConfig | None = None,
    retrain_days: int = 0,
) -> list[Quoted]:
    delivery_days = observed_delivery_weekdays(records)
    config = replace(config or ModelConfig(), delivery_weekdays=delivery_days)
    quote = history_quote(zone, delivery_days, cutoffs)
    tests = sorted(
        (r for r in records if r.ordered_at >= test_from and r.delivered_at),
        key=lambda r: r.ordered_at,
    )
    boundaries = retrain_dates(test_from, tests[-1].ordered_at, retrain_days)
    queue = BacklogReplay(records, config, zone)
    quoted, i = [], 0
    for start, end in zip(boundaries, boundaries[1:], strict=False):
        trained = train(records, start, quote, config, cutoffs=cutoffs)
        while i < len(tests) and tests[i].ordered_at < end:
            record = tests[i]
            i += 1
            model = trained.with_backlog(queue.stretches(record.ordered_at, trained))
            dates = quote(record, model)
            actual = record.delivered_at.date()
            if dates is None:
                quoted.append(Quoted(actual, None))
                continue
            quoted.append(quoted_from(actual, dates, model))
    return quoted


class BacklogReplay:
    """Each service's backlog stretch as production measures it at quote time (from the
    parcels ordered, in flight and delivered by then, in working days of the origin country
    counted in `zone`: a history names no configured warehouse, so no holiday subdivision),
    recomputed each day at midnight."""

    def __init__(self, records: Sequence[HistoryRecord], config: ModelConfig, zone: str) -> None:
        self.config, self.zone = config, zone
        countries = Counter(r.origin_country for r in records)
        self.country = countries.most_common(1)[0][0] if countries else None
        self.parcels = sorted(
            (
                (r.ordered_at, r.delivered_at, r.service_key)
                for r in records
                if r.handed_to_carrier_at
            ),
            key=lambda parcel: parcel[0],
        )
        self.ordered = [parcel[0] for parcel in self.parcels]
        self.days: dict[date, dict[str, float]] = {}

    def stretches(self, at: datetime, model: TransitModel) -> dict[str, float]:
        if not self.config.backlog:
            return {}
        day = at.date()
        if day not in self.days:
            midnight = datetime.combine(day, time(), at.tzinfo)
            self.days[day] = stretches(self.backlog(midnight, model), self.config)
        return self.days[day]

    def backlog(self, now: datetime, model: TransitModel) -> dict[str, Backlog]:
        """`current_backlog`'s figures, from the history instead of the shipments table (its
        orders' labels taken as bought when they were placed)."""
        config = self.config
        calendars = Calendars(model, (self.country, None), self.zone, now)
        today = calendars.today()
        settled = (today - config.backlog_baseline_days - SETTLED_DAYS + 1, today - SETTLED_DAYS)
        longest = timedelta(days=config.max_in_flight_days)
        earliest = min(calendars.window_start(w) for w in calendars.weekday_sets())
        since = calendars.moment(min(earliest, settled[0])) - longest
        counts: dict[str, list[float]] = {}
        services: dict[str, tuple[WorkingTime, int, float]] = {}
        for ordered, delivered, key in self.parcels[
            bisect_left(self.ordered, since) : bisect_left(self.ordered, now)
        ]:
            if key not in services:
                services[key] = calendars.window(key)
            working, start, length = services[key]
            found = counts.setdefault(key, [0.0, 0, 0.0, 0, length])
            ended = min(delivered or now, now, ordered + longest)
            begins = max(working.at(*calendars.local(ordered)), working.at(start, 0.0))
            found[0] += max(working.at(*calendars.local(ended)) - begins, 0.0)
            if delivered is not None and delivered < now:
                on = calendars.local(delivered)
                found[1] += on[0] >= start
                if settled[0] <= on[0] <= settled[1]:
                    found[2] += working.at(*on) - working.at(*calendars.local(ordered))
                    found[3] += 1
        return {
            key: Backlog(spent / days if days else 0.0, int(d), total / n if n else 0.0, days)
            for key, (spent, d, total, n, days) in counts.items()
        }


def quoted_from(actual: date, dates: DatePMF, model: TransitModel | None = None) -> Quoted:
    """What the engine would promise from `dates` (recalibrated by `model` when given)."""
    model = model or TransitModel()
    earliest, latest = Levels.of(model, 0.95).window(dates)
    return Quoted(
        actual,
        dates.promise(model.upper(0.95), model.promise_rate(0.95)),
        dates.most_likely,
        earliest,
        latest,
        {c: dates.promise(model.upper(c), model.promise_rate(c)) for c in CONFIDENCES},
    )


def figures(quoted: Sequence[Quoted]) -> dict[str, str]:
    covered = [q for q in quoted if q.promised]
    n = len(covered)

    def pct(hits: int, total: int) -> str:
        return f"{100 * hits / total:.1f} %" if total else "-"

    on_time = [q for q in covered if q.actual <= q.promised]
    late = sorted((q.actual - q.promised).days for q in covered if q.actual > q.promised)
    guesses = [q for q in covered if q.most_likely]
    windows = [q for q in covered if q.earliest and q.latest]
    errors = [(q.most_likely - q.actual).days for q in guesses]
    result = {
        "orders": str(len(quoted)),
        "coverage": pct(n, len(quoted)),
        "adherence (delivered <= promise)": pct(len(on_time), n),
        "mean padding, days (on-time orders)": _mean(
            [(q.promised - q.actual).days for q in on_time]
        ),
        "p95 lateness, days (late orders)": str(late[int(0.95 * (len(late) - 1))]) if late else "-",
        "exact-day hit (most likely)": pct(sum(e == 0 for e in errors), len(guesses)),
        "MAE, days (most likely)": _mean([abs(e) for e in errors]),
        "bias, days (most likely - actual)": _mean(errors),
        "window hit (earliest..latest)": pct(
            sum(q.earliest <= q.actual <= q.latest for q in windows), len(windows)
        ),
        "window mean width, days (latest - earliest)": _mean(
            [(q.latest - q.earliest).days for q in windows]
        ),
    }
    for c in CONFIDENCES:
        stated = [q for q in covered if c in q.at_confidence]
        met = [
            (q.at_confidence[c] - q.actual).days for q in stated if q.actual <= q.at_confidence[c]
        ]
        result[f"stated confidence {c:.2f} -> observed (padding)"] = (
            f"{pct(len(met), len(stated))} ({_mean(met)})" if stated else "-"
        )
    return result


def _mean(values: list[float]) -> str:
    return f"{statistics.fmean(values):.2f}" if values else "-"


def print_side_by_side(title: str, columns: dict[str, dict[str, str]]) -> None:
    names = list(columns)
    print(f"\n## {title}\n")
    print("| metric | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for metric in next(iter(columns.values())):
        print(f"| {metric} | " + " | ".join(columns[c].get(metric, "-") for c in names) + " |")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history")
    parser.add_argument(
        "--postal-table",
        help="CSV country,postal_prefix,lat,lng,city,state (default: " + DEFAULT_TABLE + " beside"
        " the history, when present)",
    )
    parser.add_argument("--test-from", type=date.fromisoformat, default=date(2017, 7, 1))
    parser.add_argument("--zone", default="America/Sao_Paulo")
    parser.add_argument("--sandbox", type=int, default=0, help="also score N synthetic orders")
    parser.add_argument(
        "--sandbox-carrier",
        type=int,
        default=0,
        help="also score N orders of config.yaml's demo brand through the sandbox carrier",
    )
    parser.add_argument(
        "--seed", type=int, default=11, help="the sandbox carrier history's draw (default 11)"
    )
    parser.add_argument(
        "--sandbox-country",
        default="US",
        choices=["US", *SANDBOX_WAREHOUSES],
        help="the sandbox carrier's history within this country (default US, the demo brand)",
    )
    parser.add_argument(
        "--disruptions",
        action="store_true",
        help="write the four disruptions of benchmarks/disruptions.py into the sandbox carrier",
    )
    parser.add_argument(
        "--censored",
        action="store_true",
        help="train with parcels in flight as censored observations (ModelConfig switch)",
    )
    parser.add_argument(
        "--drift-days",
        type=int,
        default=0,
        help="recalibrate on the last N days of orders when they drifted (ModelConfig switch)",
    )
    parser.add_argument(
        "--volatility-days",
        type=int,
        default=ModelConfig().volatility_days,
        help="aim calibration higher when weeks of the N days before its window swung worse than"
        " the window (ModelConfig switch; 0: off)",
    )
    parser.add_argument(
        "--no-backlog",
        action="store_true",
        help="quote without the backlog stretch (ModelConfig switch, on by default)",
    )
    parser.add_argument(
        "--retrain-days",
        type=int,
        default=0,
        help="retrain every N days instead of on the 1st and 15th",
    )
    args = parser.parse_args(argv)
    config = ModelConfig(
        censored_in_flight=args.censored,
        drift_days=args.drift_days,
        volatility_days=args.volatility_days,
        backlog=not args.no_backlog,
    )
    if args.history:
        table = args.postal_table or str(Path(args.history).with_name(DEFAULT_TABLE))
        if Path(table).exists():
            load_postal_table(table)
        with open(args.history, newline="") as file:
            records, errors = read_history(file, args.zone)
        test_from = datetime.combine(args.test_from, time(), ZoneInfo(args.zone))
        quoted = score_shipflow(records, test_from, args.zone, None, config, args.retrain_days)
        tested = [r for r in records if r.ordered_at >= test_from]
        promises = [
            Quoted(r.delivered_at.date(), r.promised_date, r.promised_date)
            for r in tested
            if r.delivered_at
        ]
        print(
            f"history: {len(records)} records, {len(errors)} rejected rows, "
            f"{len(tested) - len(promises)} test orders never delivered (not scored)"
        )
        print_side_by_side(
            f"{args.history} from {args.test_from}",
            {
                "shipflow": figures(quoted),
                "history promised_date": figures(promises),
                "hindsight (each lane's own test-period days)": figures(hindsight(tested)),
            },
        )
    if args.sandbox:
        records, cutoffs, truth = synthetic_history(args.sandbox)
        test_from = datetime(2025, 7, 1, tzinfo=ZoneInfo("America/New_York"))
        quoted = score_shipflow(records, test_from, "America/New_York", cutoffs)
        oracle = [
            quoted_from(r.delivered_at.date(), truth[r.order_id])
            for r in sorted(records, key=lambda r: r.ordered_at)
            if r.ordered_at >= test_from
        ]
        print_side_by_side(
            f"synthetic sandbox, {args.sandbox} orders, test from 2025-07-01",
            {"shipflow": figures(quoted), "oracle (true distribution)": figures(oracle)},
        )
    if args.sandbox_carrier:
        score_sandbox_carrier(
            args.sandbox_carrier,
            args.seed,
            args.sandbox_country,
            config,
            args.retrain_days,
            args.disruptions,
        )


# The demo brand moved to another country: its warehouses there (code, postal code, lat, lng).
SANDBOX_WAREHOUSES = {
    "JP": [("tyo", "100-0001", 35.68, 139.76), ("osa", "530-0001", 34.70, 135.50)],
    "TW": [("tpe", "100", 25.03, 121.52), ("khh", "800", 22.63, 120.30)],
    "IN": [
        ("del", "110001", 28.64, 77.22),
        ("bom", "400001", 18.94, 72.84),
        ("blr", "560001", 12.97, 77.59),
    ],
}


def brand_in(country: str) -> BrandConfig:
    """config.yaml's demo brand with its warehouses in `country` (same stock, services)."""
    brand = demo_brand()
    template = brand.warehouses[0]
    warehouses = [
        template.model_copy(
            update={
                "code": code,
                "name": code,
                "country": country,
                "postal_code": postal_code,
                "city": "",
                "state": "",
                "latitude": lat,
                "longitude": lng,
                "timezone": ZONES[country],
                "holiday_country": country,
                "holiday_subdivision": None,
                "working_days": None,
                "pickup_days": None,
            }
        )
        for code, postal_code, lat, lng in SANDBOX_WAREHOUSES[country]
    ]
    return brand.model_copy(update={"warehouses": warehouses})


def score_sandbox_carrier(
    orders: int,
    seed: int = 11,
    country: str = "US",
    config: ModelConfig | None = None,
    retrain_days: int = 0,
    disruptions: bool = False,
) -> None:
    """The demo brand's warehouses (moved to `country` unless US) through the real sandbox
    network, a year from 2025-01-01, scored on the second half; the carrier's own label-time
    promise is the baseline."""
    brand = demo_brand() if country == "US" else brand_in(country)
    records = [p.record for p in sandbox_history(orders, seed, brand=brand, country=country)]
    if disruptions:  # delivery times only: no events to delay
        records = [r for r, _ in disrupted([(r, ()) for r in records])]
    cutoffs = {w.code: (w.cutoff, w.timezone) for w in brand.warehouses}
    zone = "America/New_York" if country == "US" else ZONES[country]
    test_from = datetime(2025, 7, 1, tzinfo=ZoneInfo(zone))
    quoted = score_shipflow(records, test_from, zone, cutoffs, config, retrain_days)
    tested = [r for r in records if r.ordered_at >= test_from and r.delivered_at]
    carrier = [Quoted(r.delivered_at.date(), r.promised_date, r.promised_date) for r in tested]
    lost = sum(1 for r in records if r.ordered_at >= test_from and not r.delivered_at)
    print(f"sandbox carrier: {len(records)} orders, {lost} test orders never delivered (skipped)")
    print_side_by_side(
        f"sandbox carrier, {country}, {orders} orders (seed {seed}), test from 2025-07-01"
        + (", disruptions injected" if disruptions else ""),
        {
            "shipflow": figures(quoted),
            "carrier promise at label time": figures(carrier),
            "oracle (label date + network spread)": figures(label_oracle(tested)),
        },
    )


def label_oracle(tested: Sequence[HistoryRecord], extra_days: int = 6) -> list[Quoted]:
    """A bound no order-time model can beat: each order's dates are its label date plus the
    network's delays as observed on these very orders (in the service's delivery days, on the
    country's holidays), promised by shipflow's own rule with the rate that keeps each stated
    share in-sample."""
    after = [
        [
            add_working_days(
                r.promised_date, k, SERVICES[r.service].delivery_weekdays, r.origin_country
            )
            for k in range(extra_days + 1)
        ]
        for r in tested
    ]
    actual = [r.delivered_at.date() for r in tested]  # type: ignore[union-attr]
    held = [
        sum(a <= days[k] for a, days in zip(actual, after, strict=True))
        for k in range(extra_days + 1)
    ]
    shares = [(b - a) / len(tested) for a, b in zip((0, *held[:-1]), held, strict=True)]
    shares[-1] += 1 - sum(shares)
    pmfs = [date_pmf(dict(zip(days, shares, strict=True))) for days in after]
    calibration = calibration_from(
        [0.0] * len(pmfs),
        [0.0] * len(pmfs),
        rates=[d.rate_to_reach(a) for d, a in zip(pmfs, actual, strict=True)],
    )
    return [
        Quoted(
            a,
            d.promise(0.95, calibration.rate(0.95)),
            d.most_likely,
            at_confidence={c: d.promise(c, calibration.rate(c)) for c in CONFIDENCES},
        )
        for d, a in zip(pmfs, actual, strict=True)
    ]


def hindsight(tested: Sequence[HistoryRecord], enough: int = 20) -> list[Quoted]:
    """What promising a lane's quantile does even knowing the future: each order is promised
    the stated quantile of the calendar days from order to delivery of the *other test orders*
    of its state pair (else of its destination state with more than `enough`, else of all),
    slowdowns to come included, which no model trained on the past can see."""
    delivered = [r for r in tested if r.delivered_at]
    days = [(r.delivered_at.date() - r.ordered_at.date()).days for r in delivered]
    groups: dict[tuple[str, ...], list[int]] = {}
    for record, taken in zip(delivered, days, strict=True):
        for key in _hindsight_keys(record):
            groups.setdefault(key, []).append(taken)
    for values in groups.values():
        values.sort()

    def others(record: HistoryRecord, taken: int, q: float) -> int:
        """The q quantile of the first group with `enough` other orders, this one left out."""
        for key in _hindsight_keys(record):
            values = groups[key]
            if len(values) > enough or not key:
                # index k of the sorted values with one `taken` removed, read in place
                k = min(math.ceil(q * (len(values) - 2)), len(values) - 2)
                return values[k if k < bisect_left(values, taken) else k + 1]
        raise AssertionError("the last group holds every order")

    quoted = []
    for record, taken in zip(delivered, days, strict=True):
        ordered = record.ordered_at.date()
        at = {c: ordered + timedelta(days=others(record, taken, c)) for c in CONFIDENCES}
        quoted.append(
            Quoted(
                ordered + timedelta(days=taken),
                at[0.95],
                ordered + timedelta(days=others(record, taken, 0.5)),
                at_confidence=at,
            )
        )
    return quoted


def _hindsight_keys(record: HistoryRecord) -> tuple[tuple[str, ...], ...]:
    return ((record.origin_state, record.destination_state), (record.destination_state,), ())


if __name__ == "__main__":
    main()
