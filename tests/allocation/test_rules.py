from datetime import date

import pytest

from shipflow.allocation.model import is_po_box
from shipflow.allocation.rules import (
    BrandRules,
    RuleConfigError,
    ServiceRules,
    billable_weight_g,
    length_plus_girth_mm,
)
from shipflow.domain import Address, Parcel, ServiceLevel
from tests.allocation.factories import AUSTIN, FEDEX, NEWARK, UPS, UPS_AIR, USPS, option, order

# Edison +- 0.3 degrees: Newark is inside, Austin is not.
AROUND_EDISON = [[-74.8, 40.2], [-73.9, 40.2], [-73.9, 40.9], [-74.8, 40.9]]

CASES = [
    # (rules for ups:ground, order kwargs, expected rule or None, reason fragment)
    ({"countries": ["US"]}, {}, None, ""),
    ({"countries": ["CA"]}, {}, "country", "destination country US not in ['CA']"),
    ({"postal_codes": ["07102"]}, {}, None, ""),
    ({"postal_codes": ["07103"]}, {}, "postal_code", "postal code 07102 not served"),
    ({"postal_ranges": [["07000", "07999"]]}, {}, None, ""),
    ({"postal_ranges": [["08000", "08999"]]}, {}, "postal_code", "not served"),
    ({"excluded_postal_codes": ["07102"]}, {}, "postal_code", "postal code 07102 is excluded"),
    ({"areas": [AROUND_EDISON]}, {}, None, ""),
    ({"areas": [AROUND_EDISON]}, {"place": AUSTIN}, "service_area", "outside the service area"),
    ({"max_weight_kg": 31.5}, {"kg": 31.5}, None, ""),
    ({"max_weight_kg": 31.5}, {"kg": 32}, "max_weight", "parcel 32.0 kg > 31.5 kg"),
    ({"max_billable_weight_kg": 10, "dim_divisor": 5000}, {"kg": 1, "box": (600, 400, 300)}, "max_billable_weight", "billable weight 14.4 kg > 10.0 kg"),
    ({"max_side_cm": 100}, {"box": (1200, 100, 100)}, "max_side", "longest side 120.0 cm > 100.0 cm"),
    ({"max_length_plus_girth_cm": 300}, {"box": (1000, 500, 500)}, None, ""),
    ({"max_length_plus_girth_cm": 299}, {"box": (1000, 500, 500)}, "max_length_plus_girth", "length + girth 300.0 cm > 299.0 cm"),
    ({"cash_on_delivery": True}, {"cash_on_delivery_cents": 5000}, "cash_on_delivery", "carrier does not collect cash on delivery"),
    ({"max_declared_value_cents": 10000}, {"declared_value_cents": 10001}, "declared_value", "declared value 100.01 > 100.00"),
    ({}, {"hazmat": True}, "hazmat", "hazardous materials not accepted"),
    ({"hazmat": True}, {"hazmat": True}, None, ""),
    ({"signature": False}, {"signature": True}, "signature", "signature on delivery not offered"),
    ({}, {"line1": "P.O. Box 123"}, "po_box", "cannot deliver to a PO box"),
    ({"po_box": True}, {"line1": "PO Box 123"}, None, ""),
    ({"residential": False}, {"residential": True}, "residential", "does not deliver to residential"),
    ({"residential": False}, {"residential": False}, None, ""),
    ({}, {"level": ServiceLevel.EXPRESS}, "service_level", "service level standard slower than asked express"),
]  # fmt: skip


@pytest.mark.parametrize(("service_rules", "order_kwargs", "rule", "reason"), CASES)
def test_each_rule_kind(service_rules, order_kwargs, rule, reason):
    rules = BrandRules.from_dict({"services": {"ups:ground": service_rules}})
    rejection = rules.check(order(**order_kwargs), option(UPS))
    if rule is None:
        assert rejection is None
    else:
        assert rejection is not None and rejection.rule == rule
        assert reason in rejection.reason


def test_rejection_reads_as_a_sentence():
    rules = BrandRules.from_dict({"services": {"ups:ground": {"max_weight_kg": 31.5}}})
    rejection = rules.check(order(kg=32), option(UPS))
    assert str(rejection) == "ups:ground@EWR rejected by max_weight: parcel 32.0 kg > 31.5 kg"


@pytest.mark.parametrize(("exclude", "rejected"), [(["ups"], True), (["ups:ground"], True), (["fedex"], False)])  # fmt: skip
def test_exclusions_by_carrier_or_service(exclude, rejected):
    rules = BrandRules.from_dict({"exclude": exclude})
    assert (rules.check(order(), option(UPS)) is not None) is rejected


def test_faster_service_accepted_for_slower_level_and_preference_bonus():
    rules = BrandRules.from_dict({"prefer": {"ups": 50, "ups:2nd_day_air": 25}})
    assert rules.check(order(), option(UPS_AIR)) is None
    assert rules.bonus_cents(option(UPS_AIR)) == 75
    assert rules.bonus_cents(option(FEDEX)) == 0


def test_deadline_uses_p_late():
    rules = BrandRules.from_dict({"max_p_late": 0.2})
    late = order(deliver_by=date(2026, 11, 24))
    rejection = rules.check(late, option(UPS), p_late=lambda _o: 0.3)
    assert rejection.rule == "deadline" and "30% > 20%" in rejection.reason
    assert rules.check(late, option(UPS), p_late=lambda _o: 0.1) is None


def test_evaluate_splits_accepted_and_rejected():
    rules = BrandRules.from_dict({"services": {"fedex:ground": {"max_weight_kg": 1}}})
    accepted, rejected = rules.evaluate(order(kg=2), [option(UPS), option(FEDEX)])
    assert [o.key for o in accepted] == ["ups:ground@EWR"]
    assert [(r.option, r.rule) for r in rejected] == [("fedex:ground@EWR", "max_weight")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "rules: expected a mapping"),
        ({"servces": {}}, "rules: unknown key(s) servces"),
        ({"services": {"ups:ground": {"max_weight_kg": "heavy"}}}, "rules.services.ups:ground.max_weight_kg: expected int or float"),
        ({"services": {"ups:ground": {"postal_ranges": [["1"]]}}}, "postal_ranges[0]: expected [first, last]"),
        ({"services": {"ups:ground": {"areas": [[[1]]]}}}, "areas[0]: expected a list of [lng, lat] points"),
        ({"prefer": {"ups": 1.5}}, "rules.prefer.ups: expected a bonus in cents"),
        ({"max_p_late": 2}, "rules.max_p_late: expected a probability"),
    ],
)  # fmt: skip
def test_from_dict_names_the_bad_key(data, message):
    with pytest.raises(RuleConfigError) as error:
        BrandRules.from_dict(data)
    assert message in str(error.value)


def test_parcel_measures():
    parcel = Parcel(1000, 500, 400, 300)
    assert length_plus_girth_mm(parcel) == 500 + 2 * (400 + 300)
    assert billable_weight_g(parcel, 5000) == 12000  # 60,000 cm3 / 5000 cm3 per kg
    assert billable_weight_g(parcel, None) == 1000
    assert ServiceRules.from_dict({"max_weight_kg": 31.5}).max_weight_g == 31500


@pytest.mark.parametrize(
    ("line", "po_box"),
    [("PO Box 12", True), ("P.O. Box 12", True), ("Post Office Box 7", True), ("12 Boxwood Rd", False), ("1 Main St", False)],
)  # fmt: skip
def test_po_box_detection(line, po_box):
    assert is_po_box(Address("US", "07102", line1=line)) is po_box


def test_service_area_needs_coordinates():
    rules = BrandRules.from_dict({"services": {"ups:ground": {"areas": [AROUND_EDISON]}}})
    o = order(place=(NEWARK[0], None, None, "NJ"))
    assert rules.check(o, option(UPS)).rule == "service_area"


APO_AE = ("09012", None, None, "AE")
SAN_JUAN = ("00901", 18.4654, -66.1057, "PR")


@pytest.mark.parametrize(
    ("place", "service", "rejected"),
    [
        (APO_AE, UPS, "ups does not deliver to military addresses"),
        (APO_AE, FEDEX, "fedex does not deliver to military addresses"),
        (APO_AE, USPS, None),
        (SAN_JUAN, UPS, None),
        (SAN_JUAN, USPS, None),
        (NEWARK, UPS, None),
    ],
)
def test_military_post_offices_take_only_the_postal_service(place, service, rejected):
    rejection = BrandRules.from_dict({}).check(order(place=place), option(service))
    assert (rejection and rejection.reason) == rejected
