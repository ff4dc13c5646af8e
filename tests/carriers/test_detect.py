"""Tracking-number detection against tracking_number_data's own test vectors (read from
../shared at test time; the product reads only its trimmed copy in carriers/)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from carriers import registry
from carriers.detect import CHECKSUMS, carrier_for, detect
from carriers.sandbox.carrier import make_tracking_number


def _shared_dir() -> Path:
    """../shared from the repo root, or from the main checkout when run in a worktree."""
    root = Path(__file__).resolve().parents[2]
    return next(
        (p for p in (root.parent / "shared", root.parents[1] / "shared") if p.is_dir()), root
    )


DATA = _shared_dir() / "data" / "tracking_number_data"


def _vectors(kind: str) -> list[tuple[str, str, str, frozenset[str]]]:
    """(courier code, format name, number, numbers valid for another format of the courier)."""
    if not DATA.is_dir():
        return []
    cases = []
    for path in sorted((DATA / "couriers").glob("*.json")):
        courier = json.loads(path.read_text())
        formats = courier["tracking_numbers"]
        for fmt in formats:
            valid_elsewhere = frozenset(
                n for other in formats if other is not fmt for n in other["test_numbers"]["valid"]
            )
            for number in fmt["test_numbers"][kind]:
                cases.append((courier["courier_code"], fmt["name"], number, valid_elsewhere))
    return cases


needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="../shared test vectors are absent")


@needs_data
@pytest.mark.parametrize("courier,format_name,number,_", _vectors("valid"))
def test_every_valid_number_is_recognised_as_its_courier(courier, format_name, number, _):
    found = {(m.courier_code, m.format_name) for m in detect(number)}
    assert (courier, format_name) in found


@needs_data
@pytest.mark.parametrize("courier,format_name,number,valid_elsewhere", _vectors("invalid"))
def test_every_invalid_number_is_rejected_for_its_courier(
    courier, format_name, number, valid_elsewhere
):
    found = detect(number)
    assert (courier, format_name) not in {(m.courier_code, m.format_name) for m in found}
    if number not in valid_elsewhere:  # e.g. Purolator lists a valid (12) as an invalid alpha
        assert courier not in {m.courier_code for m in found}


@pytest.mark.parametrize(
    "number,carrier",
    [
        ("1Z5R89390357567127", "ups"),
        ("986578788855", "fedex"),
        ("9400111201080805483016", "usps"),
        ("RB123456785US", "usps"),
        ("3318810025", "dhl"),
    ],
)
def test_registered_carriers_route_to_our_adapters(number, carrier):
    assert carrier_for(number) == carrier
    assert carrier in registry.BUILTIN


def test_sandbox_labels_route_to_the_sandbox_carrier():
    number = make_tracking_number("G", "10001", "94105", datetime(2026, 11, 23, tzinfo=UTC), 7)
    assert carrier_for(number) == "sandbox"
    assert carrier_for(number[:-1] + str((int(number[-1]) + 1) % 10)) is None


def test_numbers_of_carriers_we_do_not_integrate_have_no_adapter():
    matches = detect("RB123456785GB")
    assert [(m.courier_code, m.carrier) for m in matches] == [("s10", None)]
    assert carrier_for("RB123456785GB") is None


def test_spaces_and_case_do_not_matter():
    assert carrier_for(" 1z 5r89 3903 5756 7127 ") == "ups"


def test_a_wrong_check_digit_is_rejected():
    assert not any(m.courier_code == "ups" for m in detect("1Z5R89390357567128"))
    assert detect("not a tracking number") == []


def test_checksum_verified_matches_come_first():
    matches = detect("1Z5R89390357567127")
    assert matches[0].checksum_verified
    assert [m.checksum_verified for m in matches] == sorted(
        (m.checksum_verified for m in matches), reverse=True
    )


@pytest.mark.parametrize(
    "name,serial,check,params",
    [
        ("mod7", "331881002", "5", {}),
        ("luhn", "7992739871", "3", {}),
        ("s10", "12345678", "5", {"weightings": [8, 6, 4, 2, 3, 5, 9, 7]}),
    ],
)
def test_checksum_algorithms_on_textbook_examples(name, serial, check, params):
    assert CHECKSUMS[name](serial, check, **params)
    wrong = "0" if check != "0" else "1"
    assert not CHECKSUMS[name](serial, wrong, **params)


@pytest.mark.parametrize(
    "number,courier,carrier",
    [
        ("SF1301234567890", "sf_express", "sf"),  # SF + 13 digits
        ("SF130123456789", "sf_express", "sf"),  # SF + 12 digits
        ("YT5555508965056", "yto", "kuaidi100"),
        ("123456789013", "jp_domestic", "17track"),  # 12345678901 % 7 == 3
        ("987654321091", "jp_domestic", "17track"),  # 98765432109 % 7 == 1
        ("EJ123456785JP", "s10", "17track"),  # Japan Post international
        ("EA123456785CN", "s10", "kuaidi100"),  # China EMS
    ],
)
def test_chinese_and_japanese_numbers_route_to_their_adapters(number, courier, carrier):
    assert courier in {m.courier_code for m in detect(number)}
    assert carrier_for(number) == carrier
    assert carrier in registry.BUILTIN


@pytest.mark.parametrize(
    "number",
    ["SF13012345678", "SF13012345678901", "YT555550896505", "123456789012", "SX1301234567890"],
)
def test_near_misses_of_the_regional_formats_are_not_them(number):
    regional = {"sf_express", "yto", "jp_domestic"}
    assert not regional & {m.courier_code for m in detect(number)}


@pytest.mark.parametrize(
    ("number", "courier", "format_name", "carrier"),
    [
        ("1490811234567", "delhivery", "Delhivery waybill", "delhivery"),  # Delhivery's create
        ("21242000512705555221", "iran_post", "Iran Post barcode", "tapin"),  # Tapin's docs
        ("05102600001264713341122", "iran_post", "Iran Post barcode", "tapin"),
        ("012352312312162402033147", "iran_post", "Iran Post barcode", "tapin"),
    ],
)
def test_delhivery_waybills_and_iran_post_barcodes(number, courier, format_name, carrier):
    [match] = [m for m in detect(number) if m.courier_code == courier]
    assert (match.format_name, match.carrier, match.checksum_verified) == (
        format_name,
        carrier,
        False,
    )
    assert carrier_for(number) == carrier


@pytest.mark.parametrize("number", ["149081123456", "1490811234567890", "2124200051270555522"])
def test_numbers_of_other_lengths_are_neither(number):
    assert not [m for m in detect(number) if m.courier_code in ("delhivery", "iran_post")]
