"""Which US addresses are military post offices or territories (DMM 703.2.2.1 prefixes)."""

import pytest

from carriers.reach import Reach, delivers_to, reach_of


@pytest.mark.parametrize(
    ("country", "postal_code", "reach"),
    [
        ("US", "09012", Reach.MILITARY),  # APO AE
        ("US", "09898", Reach.MILITARY),
        ("US", "34002", Reach.MILITARY),  # APO AA
        ("US", "96201", Reach.MILITARY),  # APO AP
        ("US", "96698", Reach.MILITARY),
        ("US", "96701", None),  # Hawaii
        ("US", "09901", None),  # 099 is no military prefix
        ("US", "00901", Reach.TERRITORY),  # San Juan, PR
        ("US", "00802", Reach.TERRITORY),  # St Thomas, VI
        ("US", "96910", Reach.TERRITORY),  # Hagatna, GU
        ("US", "96950", Reach.TERRITORY),  # Saipan, MP
        ("US", "96799", Reach.TERRITORY),  # Pago Pago, AS
        ("PR", "00901", Reach.TERRITORY),
        ("gu", "96910", Reach.TERRITORY),
        ("US", "10001", None),
        ("US", "1000", None),
        ("DE", "09012", None),
    ],
)
def test_reach_of(country, postal_code, reach):
    assert reach_of(country, postal_code) is reach


def test_only_the_postal_service_delivers_to_military_post_offices():
    assert [
        c for c in ("usps", "ups", "fedex", "dhl", "sandbox") if delivers_to(c, Reach.MILITARY)
    ] == ["usps"]
    assert delivers_to("ups", Reach.TERRITORY) and delivers_to("ups", None)
