"""The transit-time model: business-day distributions learned per lane from delivered history.

A lane is carrier service x origin region x destination region. Each level of the region
hierarchy (e.g. ZIP3 -> state -> census region -> country) keeps a recency-weighted histogram
of days and one of days from each delivery's own lane centre (its spread); a lane's
distribution is its own days plus the spread pooled from the levels above it, placed at the
lane's centre, and the root borrows from a prior (the carrier's published service level between
the two countries, else one from distance, see `_prior`), so thin lanes borrow strength
instead of jumping between levels. Handling (order -> handover) is modelled the same way per
shipper -> origin region.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import cast

import numpy as np

from shipflow import geo
from shipflow.calendars import apply_cutoff, calendar
from shipflow.edd.calibration import Calibration
from shipflow.edd.distribution import Distribution
from shipflow.edd.history import HistoryRecord
from shipflow.edd.lanes import Lane, Origin, distance_bands, record_location
from shipflow.edd.learned import learned_cutoffs, learned_weekdays
from shipflow.edd.priors import published

WEEKDAYS = frozenset(range(5))
PUBLISHED = "prior:published"  # a lane's prior from the carrier's published service level
MIN_OBSERVED = 0.2  # caps the truncation weight at 5
# No single promise is one the model expects to miss more than one time in five, whatever a
# brand-wide confidence above that lets it trade between orders.
MIN_PROMISE_LEVEL = 0.8
END_OF_DAY = time(23, 59, 59)  # a shipper without a cut-off: every order counts from its day
MAX_CACHED_LANES = 100_000  # shrunk distributions kept per model (a few hundred bytes each)
MIN_SAMPLES_TO_SHIFT = 3  # a level's own median counts from this many (weighted) deliveries
# lanes compared for pooling: a thin lane's share later than its own median is bounded by it;
# half of these in each half of the history
MIN_LANE_TO_COMPARE = 10
MIN_LANES_TO_COMPARE = 5  # fewer lanes than this tell nothing of how alike lanes are


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Knobs of the model; defaults are general, not tuned to one history."""

    half_life_days: float = 90.0  # recency weighting of deliveries
    min_samples: float = 20.0  # effective samples for a level to count as "used"
    prior_strength: float = 8.0  # pseudo-samples the coarsest level borrows from the prior
    # pseudo-samples a level borrows from its parent's spread where too few lanes show how
    # alike they are (otherwise measured per service, see pooling_strength)
    shape_strength: float = 32.0
    max_days: int = 60  # business days beyond this are clamped
    delivery_weekdays: frozenset[int] = WEEKDAYS  # the days transit is counted in
    working_weekdays: frozenset[int] = WEEKDAYS  # the days handling is counted in
    prior_base_days: float = 1.0  # distance prior: median = base + km / km_per_day
    prior_km_per_day: float = 500.0
    prior_sigma: float = 0.5
    mature_days: int = 90  # orders older than this are taken as fully delivered (0: no correction)
    # Parcels handed over and not delivered by `as_of` count as "longer than the days so far"
    # (right-censored) instead of re-weighting recent deliveries by their odds of being known.
    # Off by default: on the sandbox carrier it pads more (docs/benchmarks.md, issue #18).
    censored_in_flight: bool = False
    max_in_flight_days: int = 30  # handed over longer ago than this: lost, not in flight
    # Recalibrate on the last `drift_days` of orders when their promises at
    # `drift_confidence` were kept significantly less often than stated (0: off; see
    # training.drift_calibration).
    drift_days: int = 0
    drift_confidence: float = 0.95
    # Aim each stated share higher when the weeks of this many days of orders before the
    # calibration window swung worse than the window (0: off; training.swing_charges).
    # On by default: Olist's stated 0.95 keeps 95.1 / 93.4 % (from July / October) against
    # 92.5 / 90.0 % off; the sandbox disruptions' stated 0.80 keeps 82.1 % (81.0 off).
    volatility_days: int = 180
    # Stretch each service's transit by its backlog at quote time: parcels in flight against
    # recent deliveries per day (shipflow.edd.backlog), less its counting noise, capped.
    backlog: bool = True
    backlog_days: int = 7  # parcels in flight and deliveries per day over this many days
    backlog_baseline_days: int = 90  # the usual transit: mean of this many days' deliveries
    backlog_z: float = 2.0  # standard errors of counting noise taken off the measured ratio
    max_backlog_stretch: float = 1.5


@dataclass(eq=False)
class TransitModel:
    """Histograms per level key plus the prior and calibration; see the module docstring."""

    config: ModelConfig = field(default_factory=ModelConfig)
    as_of: datetime | None = None
    histograms: dict[str, list[float]] = field(default_factory=dict)
    # per level key, days from each delivery's lane centre (see _centre): index = days + max_days
    spreads: dict[str, list[float]] = field(default_factory=dict)
    # per coarsest level (a service's or handling's country pair): pseudo-samples a level borrows
    # from its parent's spread, as measured by how alike its lanes' spreads are
    shape_strengths: dict[str, float] = field(default_factory=dict)
    calibration: Calibration | None = None
    service_weekdays: dict[str, frozenset[int]] = field(default_factory=dict)
    # shipper -> (cut-off, zone) as its handovers show it, for shippers configured without one
    cutoffs: dict[str, tuple[time, str]] = field(default_factory=dict)
    # service key -> how many times longer its transit takes now (measured at quote time, not
    # stored: see with_backlog)
    backlog: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        records: Iterable[HistoryRecord],
        as_of: datetime,
        config: ModelConfig | None = None,
        cutoffs: Mapping[str, tuple[time, str]] | None = None,
    ) -> TransitModel:
        """Learn from records delivered before `as_of` (later ones are what production lacks).

        `cutoffs` (shipper -> cut-off time and zone) makes handling count from the day the
        order made the cut-off; other shippers get the cut-off their handovers show, if any,
        else count from the order's own day.
        """
        model = cls(config or ModelConfig(), as_of)
        known = [
            r
            for r in records
            if r.delivered_at and r.handed_to_carrier_at and r.delivered_at < as_of
        ]
        model.service_weekdays = learned_weekdays(known)
        unknown = [r for r in known if r.shipper_id not in (cutoffs or {})]
        model.cutoffs = learned_cutoffs(unknown, model.config.working_weekdays)
        effective = {**model.cutoffs, **(cutoffs or {})}
        in_flight = model._in_flight(records, as_of)
        observed = (
            (lambda record: 1.0)
            if model.config.censored_in_flight
            else observation_odds(known, as_of, model.config.mature_days)
        )
        max_days, learned = model.config.max_days, []
        for record in known:
            delivered = cast(datetime, record.delivered_at)
            age = (as_of - delivered).total_seconds() / 86400
            weight = 0.5 ** (age / model.config.half_life_days) / observed(record)
            for keys, days in model._observations(record, effective.get(record.shipper_id)):
                for key in keys:
                    _add(model.histograms, key, days, weight, max_days + 1)
                learned.append((keys, days, weight, delivered))
        censored = [model._observations(record, None, as_of)[0] for record in in_flight]
        for keys, days in censored:
            for key in keys:
                _add_censored(model.histograms, key, days)
        # not through _histogram: its cache would outlive edits to the histograms
        centres = {key: _summary(c)[1:] for key, c in model.histograms.items()}
        spreads = []
        for keys, days, weight, delivered in learned:
            # days from the lane's centre, pooled at the centre's level and coarser ones
            i = _centre(keys, centres, MIN_SAMPLES_TO_SHIFT)
            spread = days - centres[keys[i]][1]
            for key in keys[: i + 1]:
                _add(model.spreads, key, spread + max_days, weight, 2 * max_days + 1)
            spreads.append((keys[0], keys[i], spread, delivered))
        for keys, days in censored:  # their spread is at least as far from the centre
            i = _centre(keys, centres, MIN_SAMPLES_TO_SHIFT)
            for key in keys[: i + 1]:
                _add_censored(model.spreads, key, days - centres[keys[i]][1] + max_days)
        model.shape_strengths = model._pooling_strengths(spreads)
        return model

    def _pooling_strengths(self, spreads: list[tuple[str, str, int, datetime]]) -> dict[str, float]:
        """Per family (coarsest level), how strongly its lanes' spreads pool: judged by how
        much lanes differ, in the earlier and the later half of the family's deliveries alike,
        in their share of deliveries later than the family's promise zone (its
        MIN_PROMISE_LEVEL quantile of days from lane centres)."""
        max_days = self.config.max_days
        beyond = {
            family: int(np.searchsorted(np.cumsum(counts), MIN_PROMISE_LEVEL * sum(counts)))
            - max_days
            for family in {family for family, *_ in spreads}
            if (counts := self.spreads[family])
        }
        times: dict[str, list[datetime]] = defaultdict(list)
        for family, _, _, delivered in spreads:
            times[family].append(delivered)
        middle = {family: sorted(found)[len(found) // 2] for family, found in times.items()}
        lanes: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0] * 4))
        for family, centre, spread, delivered in spreads:
            lane, half = lanes[family][centre], 2 * (delivered >= middle[family])
            lane[half], lane[half + 1] = lane[half] + 1, lane[half + 1] + (spread > beyond[family])
        return {
            family: strength
            for family, found in lanes.items()
            if (strength := pooling_strength(list(found.values()))) is not None
        }

    def _in_flight(self, records: Iterable[HistoryRecord], as_of: datetime) -> list[HistoryRecord]:
        """Parcels handed over before `as_of` and not delivered by then (when censoring)."""
        config = self.config
        if not config.censored_in_flight:
            return []
        oldest = as_of - timedelta(days=config.max_in_flight_days)
        return [
            r
            for r in records
            if r.handed_to_carrier_at
            and oldest <= r.handed_to_carrier_at < as_of
            and not (r.delivered_at and r.delivered_at < as_of)
        ]

    def _observations(
        self, record: HistoryRecord, cutoff: tuple[time, str] | None, as_of: datetime | None = None
    ) -> list[tuple[list[str], int]]:
        """(level keys, business days) of a delivery's transit and of its handling; with
        `as_of`, of a parcel still in flight then, the transit days it has at least taken."""
        config = self.config
        origin = record_location(record, "origin")
        destination = record_location(record, "destination")
        handed = record.handed_to_carrier_at.date()  # type: ignore[union-attr]
        deliveries = calendar(self.weekdays(record.service_key), destination.country)
        arrived = as_of.date() if as_of else record.delivered_at.date()  # type: ignore[union-attr]
        transit = deliveries.count(handed, arrived)
        distance = geo.distance_km(origin, destination)
        lane = Lane(
            record.service_key, origin.regions, destination.regions, distance, record.shipper_id
        )
        working = calendar(config.working_weekdays, origin.country, origin.subdivision)
        if cutoff:
            start = apply_cutoff(record.ordered_at, cutoff[1], cutoff[0], working).start_day
        else:
            start = working.next_day(record.ordered_at.date())
        handling = working.count(start, handed)
        return [
            ([key for key, _ in lane.levels()], transit),
            ([key for key, _ in Origin(record.shipper_id, origin.regions).levels()], handling),
        ]

    def weekdays(self, service_key: str) -> frozenset[int]:
        """The weekdays a service delivers on, as its history shows (else the configured ones):
        transit is counted in them, so a Saturday is a day only where parcels arrive then."""
        return self.service_weekdays.get(service_key, self.config.delivery_weekdays)

    def with_backlog(self, stretches: Mapping[str, float]) -> TransitModel:
        """This model quoting each service's transit `stretches[service key]` times as long
        (see shipflow.edd.backlog); itself when that changes nothing. The levels' arrays do not
        depend on it and are shared, so a new stretch costs only re-placing the lanes quoted."""
        stretches = {key: factor for key, factor in stretches.items() if factor != 1}
        if stretches == self.backlog:
            return self
        model = replace(self, backlog=stretches)
        for name in ("_arrays", "_spread_arrays", "_above_cache"):
            model.__dict__[name] = getattr(self, name)
        return model

    def predict(self, lane: Lane) -> Distribution | None:
        """Transit business days for a lane; None when there is neither data nor a distance."""
        # everything the levels and the prior depend on
        cache_key: tuple = (lane.service, lane.origin, lane.destination, lane.shipper)
        cache_key += (distance_bands(lane.distance_km), _bucket(lane.distance_km))
        if cache_key not in self._cache:
            self._keep_cache_bounded()
            found = self._shrink(lane.levels(), self._prior(lane))
            stretch = self.backlog.get(lane.service, 1.0)
            self._cache[cache_key] = found.stretched(stretch) if found else None
        return self._cache[cache_key]

    def predict_handling(self, origin: Origin) -> Distribution | None:
        """Handling business days for a shipper; None when nothing is known of its country."""
        cache_key = (origin.shipper, origin.regions)
        if cache_key not in self._cache:
            self._keep_cache_bounded()
            self._cache[cache_key] = self._shrink(origin.levels(), None)
        return self._cache[cache_key]

    def prepared(self) -> TransitModel:
        """Every level's arrays built now: a model loaded to quote meets new ZIP codes all the
        time, and a first quote to one should not build its levels' arrays on the request
        (~15 us a level; all of them at load: ~70 ms for 7,000 levels)."""
        for key in self.histograms:
            self._histogram(key)
        for key in self.spreads:
            self._spread(key)
        return self

    def upper(self, p: float) -> float:
        """The predictive level to quote for "on or before, with probability p"."""
        return self.calibration.upper(p) if self.calibration else p

    def lower(self, p: float) -> float:
        """The predictive level to quote for "not before, with probability 1 - p"."""
        return self.calibration.lower(p) if self.calibration else p

    def promise_rate(self, p: float) -> float | None:
        """The promise rate that keeps a share p of promises; None (each promise at its own
        calibrated quantile) before calibration or when p leaves nothing to trade."""
        if self.calibration is None or p <= MIN_PROMISE_LEVEL:
            return None
        return self.calibration.rate(p)

    def window_mass(self, stated: float) -> float:
        """The predictive mass a window holds to contain `stated` of outcomes: what the
        calibration found (more for an overconfident model, less for a cautious one)."""
        calibrated = self.calibration.window_mass if self.calibration else None
        return calibrated or stated

    @cached_property
    def _cache(self) -> dict:
        return {}

    def _keep_cache_bounded(self) -> None:
        """Public traffic can ask for every ZIP: start over rather than grow without end."""
        if len(self._cache) >= MAX_CACHED_LANES:
            self._cache.clear()
            self._above_cache.clear()

    @cached_property
    def _above_cache(self) -> dict[tuple, tuple[np.ndarray | float, float, float]]:
        return {}

    @cached_property
    def _arrays(self) -> dict[str, tuple[np.ndarray, float, int]]:
        return {}

    @cached_property
    def _spread_arrays(self) -> dict[str, tuple[np.ndarray, float]]:
        return {}

    def _histogram(self, key: str) -> tuple[np.ndarray, float, int] | None:
        """A level's counts as an array, with their total and median."""
        found = self._arrays.get(key)
        if found is None:
            counts = self.histograms.get(key)
            if counts is None:
                return None
            found = self._arrays[key] = _summary(counts)
        return found

    def _spread(self, key: str) -> tuple[np.ndarray, float]:
        """A level's days from its lanes' centres (index = days + max_days), and their total:
        only deliveries whose lane is centred at this level or finer count here."""
        found = self._spread_arrays.get(key)
        if found is None:
            counts = self.spreads.get(key) or [0.0] * (2 * self.config.max_days + 1)
            found = self._spread_arrays[key] = (np.array(counts), sum(counts))
        return found

    def _shrink(
        self, keys: list[tuple[str, str]], prior: Distribution | None
    ) -> Distribution | None:
        """Level by level from `prior`: a level's spread is its own (days from its deliveries'
        lane centres) plus pseudo-samples of its parent's; the lane's days are its finest
        level's counts plus pseudo-samples of the spread above it, placed at the lane's centre.
        Lanes differ in how long they take, while the spread around it (late parcels, failed
        attempts) is the network's: a coarse level's raw days would add the gaps between lanes.

        The spread above the finest level is one weighted sum of the levels' spreads, shared
        by every lane with the same levels above (`_above`): a new lane costs placing it and
        adding its own counts (the widget meets new ZIP codes all the time)."""
        config = self.config
        found = [(label, key, *known) for key, label in keys if (known := self._histogram(key))]
        if not found:
            return prior
        location, level, samples = 0, "", 0.0
        if prior:
            prior_shape, location = _prior_shape(prior, config.max_days)
            level = prior.level
        else:
            location = found[0][4]
        for label, _, _, n, median in found:
            if n >= MIN_SAMPLES_TO_SHIFT:
                location = median
            if n >= config.min_samples or not level:
                level, samples = label, n
        *above, (_, _, counts, n, _) = found
        if not above and not prior:
            return Distribution(tuple((counts / n).tolist()), level, samples)
        above_keys = (keys[0][0], prior is not None, *(key for _, key, *_ in above))
        shape, prior_weight, strength = self._above(above_keys)
        if prior:
            shape = shape + prior_weight * prior_shape
        # An array here: there is a prior, or levels above (else the lane returned early).
        placed = _placed(cast(np.ndarray, shape), location, config.max_days)
        pmf = (counts + strength * placed) / (n + strength)
        return Distribution(tuple(pmf.tolist()), level, samples)

    def _above(self, above_keys: tuple) -> tuple[np.ndarray | float, float, float]:
        """The spread the levels above a lane's finest add up to, as (their weighted sum, the
        prior's weight, the finest level's pseudo-samples); lanes of one state pair share it.

        `above_keys`: (the family's key, whether a prior is at the root, keys coarse -> fine).
        """
        found = self._above_cache.get(above_keys)
        if found is not None:
            return found
        family, with_prior, *above = above_keys
        config = self.config
        shape_strength = self.shape_strengths.get(family, config.shape_strength)
        weights: list[float] = []
        rows: list[np.ndarray] = []
        prior_weight = 1.0 if with_prior else 0.0
        strength = config.prior_strength if with_prior else 0.0
        for key in above:
            spread, total = self._spread(key)
            keep = strength / (total + strength)
            prior_weight *= keep
            weights = [w * keep for w in weights] + [1 / (total + strength)]
            rows.append(spread)
            strength = shape_strength
        shape = np.asarray(weights) @ np.vstack(rows) if rows else 0.0
        found = self._above_cache[above_keys] = (shape, prior_weight, strength)
        return found

    def _prior(self, lane: Lane) -> Distribution | None:
        """What a lane borrows before history: the carrier's published days between the two
        countries (the distance placing it inside that range), else, within one country, the
        distance alone (across a border, customs and line hauls make distance say little)."""
        config = self.config
        distance = lane.distance_km if lane.origin[-1] == lane.destination[-1] else None
        from_distance = (
            None
            if distance is None
            else config.prior_base_days + _bucket(distance) / config.prior_km_per_day
        )
        level = published(lane.service, lane.origin[-1], lane.destination[-1])
        if level is None:
            if from_distance is None:
                return None
            return _lognormal(from_distance, config.prior_sigma, config.max_days)
        middle = (level.min_days + level.max_days) / 2
        median = middle if from_distance is None else from_distance
        median = min(max(median, level.min_days + 0.5), level.max_days)
        # a 95 % promise lands on the published last day: it is the range's 97.5th percentile
        sigma = max(math.log((level.max_days + 0.5) / median) / 1.96, 0.15)
        return _lognormal(median, sigma, config.max_days, PUBLISHED)

    def to_dict(self) -> dict:
        config = asdict(self.config)
        for name in ("delivery_weekdays", "working_weekdays"):
            config[name] = sorted(config[name])
        return {
            "config": config,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "histograms": {k: _trim([round(c, 6) for c in v]) for k, v in self.histograms.items()},
            "spreads": {k: _span(v) for k, v in self.spreads.items()},
            "shape_strengths": self.shape_strengths,
            "calibration": asdict(self.calibration) if self.calibration else None,
            "service_weekdays": {k: sorted(v) for k, v in self.service_weekdays.items()},
            "cutoffs": {k: [c.isoformat(), zone] for k, (c, zone) in self.cutoffs.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> TransitModel:
        options = dict(data["config"])
        for name in ("delivery_weekdays", "working_weekdays"):
            options[name] = frozenset(options[name])
        config = ModelConfig(**options)
        histograms = {
            k: v + [0.0] * (config.max_days + 1 - len(v)) for k, v in data["histograms"].items()
        }
        if "spreads" in data:
            size = 2 * config.max_days + 1
            spreads = {
                k: _unspan(first, values, size) for k, (first, values) in data["spreads"].items()
            }
        else:  # stored before spreads were learned: each level's own days around its median
            spreads = {
                k: _centred(array, median, config.max_days).tolist()
                for k, (array, _, median) in ((k, _summary(v)) for k, v in histograms.items())
            }
        calibration = data.get("calibration")
        return cls(
            config,
            datetime.fromisoformat(data["as_of"]) if data.get("as_of") else None,
            histograms,
            spreads,
            data.get("shape_strengths", {}),
            Calibration(
                tuple(calibration["before"]),
                tuple(calibration["at"]),
                calibration["samples"],
                calibration.get("window_mass"),
                tuple(calibration["rates"]) if calibration.get("rates") else None,
                tuple(calibration["charges"]) if calibration.get("charges") else None,
            )
            if calibration
            else None,
            {k: frozenset(v) for k, v in data.get("service_weekdays", {}).items()},
            {k: (time.fromisoformat(c), zone) for k, (c, zone) in data.get("cutoffs", {}).items()},
        )


def observation_odds(
    known: list[HistoryRecord], as_of: datetime, mature_days: int
) -> Callable[[HistoryRecord], float]:
    """P(an order of this age would already be delivered), to undo right truncation.

    Recent orders are known only if they were fast; weighting each by 1 / P(delivered by now),
    estimated from orders old enough to be complete, keeps the slow ones from vanishing.
    """
    mature = sorted(
        (r.delivered_at - r.ordered_at).days  # type: ignore[operator]
        for r in known
        if (as_of - r.ordered_at).days >= mature_days
    )
    if not mature or not mature_days:
        return lambda record: 1.0

    def observed(record: HistoryRecord) -> float:
        age = (as_of - record.ordered_at).days
        if age >= mature_days:
            return 1.0
        return max(bisect_right(mature, age) / len(mature), MIN_OBSERVED)

    return observed


def pooling_strength(lanes: list[list[int]], most: float = 1000.0) -> float | None:
    """How many pseudo-samples a lane's spread should borrow from the network's, from how much
    lanes differ in their share of late deliveries beyond chance, and lastingly: lanes are
    [deliveries, late] in the earlier half of the history followed by the same in the later
    half. Across lanes, the covariance of the two halves' deviations from their half's share
    holds only the differences that last (sampling noise and a lane's passing bad weeks do not
    repeat in the other half); as the between-lane variance tau^2 of a Beta prior around the
    share p, that is a strength of p (1 - p) / tau^2 - 1. Lanes no more lastingly different
    than that share their spread entirely (`most`); None when too few lanes show both halves.

    Measured within one period instead (a one-way ANOVA), lanes of a drifting network look
    more different than they stay, and thin lanes keep tails that the next months do not
    repeat."""
    least = MIN_LANE_TO_COMPARE // 2
    lanes = [lane for lane in lanes if min(lane[0], lane[2]) >= least]
    if len(lanes) < MIN_LANES_TO_COMPARE:
        return None
    n, k = np.array(lanes, dtype=float).reshape(-1, 2, 2).transpose(2, 1, 0)
    deviations = k / n - k.sum(axis=1, keepdims=True) / n.sum(axis=1, keepdims=True)
    weights = n.prod(axis=0) / n.sum(axis=0)
    between = float((weights * deviations.prod(axis=0)).sum() / weights.sum())
    share = k.sum() / n.sum()
    variance = share * (1 - share)
    if between <= variance / (most + 1):
        return most
    return max(float(variance / between) - 1, 0.0)


def _centre(keys: list[str], centres: dict[str, tuple[float, int]], enough: float) -> int:
    """Index of the level a delivery's lane is centred on: its finest with `enough`
    deliveries to trust a median, else its coarsest."""
    sure = [i for i, key in enumerate(keys) if centres[key][0] >= enough]
    return sure[-1] if sure else 0


def _add(table: dict[str, list[float]], key: str, index: int, weight: float, size: int) -> None:
    counts = table.get(key)
    if counts is None:
        counts = table[key] = [0.0] * size
    counts[min(max(index, 0), size - 1)] += weight


def _add_censored(table: dict[str, list[float]], key: str, at_least: int) -> None:
    """One parcel known to take `at_least` days or more: its weight spread over those days as
    the level's deliveries are (redistribution to the right, as Kaplan-Meier does)."""
    counts = table.get(key)
    if counts is None:
        return
    first = min(max(at_least, 0), len(counts) - 1)
    tail = sum(counts[first:])
    if not tail:
        counts[first] += 1.0
        return
    for day in range(first, len(counts)):
        counts[day] += counts[day] / tail


def _summary(counts: list[float]) -> tuple[np.ndarray, float, int]:
    """Counts as an array, with their total and median."""
    array = np.array(counts)
    return array, sum(counts), _median(array)


def _median(weights: np.ndarray) -> int:
    """The first day by which half the weight is in."""
    running = np.cumsum(weights)
    return int(np.searchsorted(running, running[-1] / 2))


@lru_cache(maxsize=1024)
def _prior_shape(prior: Distribution, max_days: int) -> tuple[np.ndarray, int]:
    """The prior as a spread around its median, and that median."""
    pmf = np.array(prior.pmf)
    median = _median(pmf)
    return _centred(pmf, median, max_days), median


def _centred(pmf: np.ndarray, location: int, max_days: int) -> np.ndarray:
    """`pmf` over days 0..max_days as days from `location` (index = days + max_days)."""
    shape = np.zeros(2 * max_days + 1)
    shape[max_days - location : 2 * max_days - location + 1] = pmf
    return shape


def _placed(shape: np.ndarray, location: int, max_days: int) -> np.ndarray:
    """A spread around 0 placed at `location`, what falls outside 0..max_days kept at the ends."""
    first = max_days - location
    pmf = shape[first : first + max_days + 1].copy()
    pmf[0] += shape[:first].sum()
    pmf[-1] += shape[first + max_days + 1 :].sum()
    return pmf


def _bucket(distance_km: float | None) -> float:
    """Distances rounded to 25 km so the prior cache stays small."""
    return -1.0 if distance_km is None else round(distance_km / 25) * 25


@lru_cache(maxsize=1024)
def _lognormal(
    median: float, sigma: float, max_days: int, level: str = "prior:distance"
) -> Distribution:
    """A prior over business days, shared by every lane in its 25 km bucket."""

    def cdf(x: float) -> float:
        if x <= 0:
            return 0.0
        return 0.5 * (1 + math.erf((math.log(x) - math.log(median)) / (sigma * math.sqrt(2))))

    edges = [cdf(d + 0.5) for d in range(max_days + 1)]
    edges[-1] = 1.0
    pmf = tuple(b - a for a, b in zip([0.0, *edges[:-1]], edges, strict=True))
    return Distribution(pmf, level)


def _span(values: list[float]) -> tuple[int, list[float]]:
    """(first index, values from there to the last non-zero): a spread is zeros on both sides."""
    rounded = [round(v, 6) for v in values]
    first = next((i for i, v in enumerate(rounded) if v), len(rounded))
    return first, _trim(rounded[first:])


def _unspan(first: int, values: list[float], size: int) -> list[float]:
    return [0.0] * first + values + [0.0] * (size - first - len(values))


def _trim(values: list[float]) -> list[float]:
    while values and values[-1] == 0:
        values.pop()
    return values
