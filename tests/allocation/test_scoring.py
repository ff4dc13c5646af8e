from datetime import date, timedelta

import pytest

from shipflow.allocation.rules import RuleConfigError
from shipflow.allocation.scoring import (
    LanePerformance,
    Outcome,
    Pricer,
    QuoteCache,
    RateCard,
    ScoringWeights,
    TransitTable,
    business_days,
)
from shipflow.clock import FixedClock
from shipflow.domain import ServiceLevel
from shipflow.geo import Location
from tests.allocation.factories import AUSTIN, DFW, RATE_CARDS, UPS, card, option, order

NJ = Location("US", "08817", 40.5187, -74.4121, ("EWR",))
NEAR = Location("US", "07102", 40.7357, -74.1724, ("US:NJ",))
FAR = Location("US", "78701", 30.2711, -97.7437, ("US:TX",))


@pytest.mark.parametrize(
    ("kwargs", "cents", "how"),
    [
        ({}, 900, "zone 1"),  # Newark from Edison: zone 1, band 1
        ({"kg": 6}, 1400, "zone 1"),  # band 2
        ({"place": AUSTIN}, 1300, "zone 2"),
        ({"kg": 31}, None, "no rate for zone 1 at 31.0 kg"),
    ],
)
def test_rate_card_by_distance_zone_and_weight_band(kwargs, cents, how):
    assert Pricer(RATE_CARDS).price(order(**kwargs), option(UPS)) == (cents, how)


def test_dimensional_weight_moves_the_band():
    pricer = Pricer({"ups:ground": card(900, 1300, divisor=5000)})
    # 1 kg in a 60x40x30 cm box bills as 14.4 kg: the second band
    assert pricer.price(order(kg=1, box=(600, 400, 300)), option(UPS))[0] == 1400


def test_zone_table_wins_over_distance():
    rate = RateCard.from_dict(
        {"bands_kg": [5], "prices": {"1": [100], "8": [800]}, "zone_km": [[5000, "1"]],
         "zone_table": {"EWR": {"071": "8"}}, "residential_cents": 50}
    )  # fmt: skip
    assert Pricer({"ups:ground": rate}).price(order(), option(UPS)) == (850, "zone 8")
    assert Pricer({"ups:ground": rate}).price(order(), option(UPS, DFW)) == (150, "zone 1")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bands_kg": [1], "prices": {"1": [1, 2]}, "zone_km": [[9, "1"]]}, "rate_card.prices.1: expected 1 prices"),
        ({"bands_kg": [1], "prices": {"1": [1]}}, "give zone_km"),
        ({"bands_kg": [1], "prices": {"1": [1]}, "zone_km": [[9, "2"]]}, "no prices for zone(s) ['2']"),
        ({"bands": [1]}, "unknown key(s) bands"),
    ],
)  # fmt: skip
def test_rate_card_errors(data, message):
    with pytest.raises(RuleConfigError) as error:
        RateCard.from_dict(data)
    assert message in str(error.value)


class CountingProvider:
    def __init__(self, answer):
        self.calls, self.answer = 0, answer

    def quote(self, order, option):
        self.calls += 1
        return self.answer


def test_quote_cache_per_lane_and_weight_band_with_ttl():
    provider, clock = CountingProvider(1234), FixedClock()
    cache = QuoteCache(provider, clock, ttl=timedelta(hours=1))
    pricer = Pricer(RATE_CARDS, provider=cache)
    assert pricer.price(order(kg=1.0), option(UPS)) == (1234, "quote")
    assert pricer.price(order(kg=0.8), option(UPS)) == (1234, "quote")  # same 500 g band
    assert provider.calls == 1
    pricer.price(order(kg=2.0), option(UPS))
    assert provider.calls == 2
    clock.advance(timedelta(hours=2))
    pricer.price(order(kg=1.0), option(UPS))
    assert provider.calls == 3


def test_rate_card_when_provider_has_no_price():
    pricer = Pricer(RATE_CARDS, provider=CountingProvider(None))
    assert pricer.price(order(), option(UPS)) == (900, "zone 1")


def test_transit_table_p_late():
    table = TransitTable.from_dict(
        {"ups:ground": {"bands_km": [500, 5000], "days_pmf": [[0, 0.9, 0.1], [0, 0, 0.5, 0.5]]}}
    )
    monday = date(2026, 11, 23)
    assert table.p_late("ups:ground", NJ, NEAR, monday, date(2026, 11, 24)) == pytest.approx(0.1)
    assert table.p_late("ups:ground", NJ, NEAR, monday, date(2026, 11, 25)) == pytest.approx(0.0)
    assert table.p_late("ups:ground", NJ, FAR, monday, date(2026, 11, 25)) == pytest.approx(0.5)
    assert table.p_late("ups:ground", NJ, NEAR, monday, monday - timedelta(days=1)) == 1.0
    assert (
        table.p_late("dhl:x", NJ, NEAR, monday, date(2026, 12, 25)) == 1.0
    )  # unknown: never promise


def test_business_days_skip_weekends():
    friday = date(2026, 11, 27)
    assert business_days(friday, friday + timedelta(days=3)) == 1  # Monday
    assert business_days(friday, friday + timedelta(days=14)) == 10


def test_lane_performance_smooths_towards_the_service_then_everyone():
    history = [Outcome("ups:ground", "EWR", "south", on_time=True)] * 90 + [
        Outcome("ups:ground", "EWR", "south", on_time=False, failed_attempt=True)
    ] * 10
    history += [Outcome("usps:ground_advantage", "EWR", "west", on_time=False, rto=True)] * 5
    perf = LanePerformance.learn(history, strength=50)
    lane = perf.rates("ups:ground", "EWR", "south")
    service_fa = (10 + 50 * 10 / 105) / (100 + 50)
    assert lane["failed_attempt"] == pytest.approx((10 + 50 * service_fa) / (100 + 50))
    # an unseen lane of a known service falls back on the service's smoothed record
    assert perf.rates("ups:ground", "DFW", "west")["failed_attempt"] == pytest.approx(service_fa)
    # a few bad shipments on a new service are pulled strongly towards everybody's mean
    usps = perf.rates("usps:ground_advantage", "EWR", "west")["rto"]
    assert 5 / 105 < usps < 0.25


def test_weights_from_dict():
    w = ScoringWeights.from_dict(
        {"lateness_lambda": 2, "penalty_cents": {"rto": 2000}, "promise_days": {"standard": 4}}
    )
    assert w.lateness_lambda == 2.0 and w.penalty_cents["rto"] == 2000
    assert w.promise_days[ServiceLevel.STANDARD] == 4
    with pytest.raises(RuleConfigError, match="penalty_cents.slow"):
        ScoringWeights.from_dict({"penalty_cents": {"slow": 1}})
