import pytest

from shipflow import geo


def test_us_zip_resolves_with_zone_and_hierarchy():
    loc = geo.locate("US", "10001-1234")
    assert loc.timezone == "America/New_York"
    assert loc.regions == ("US:100", "US:NY", "US:northeast", "US")
    assert loc.subdivision == "NY"
    assert loc.lat == pytest.approx(40.75, abs=0.05)


def test_a_zip_whose_data_names_no_real_zone_still_resolves():
    # the zipcodes data gives "Napakiak" as this Alaskan ZIP's time zone
    assert geo.locate("US", "99634").timezone is None


def test_unknown_us_zip_is_none():
    assert geo.locate("US", "00000") is None


def test_country_without_table_backs_off_to_country_with_note():
    loc = geo.locate("FR", "75001")
    assert loc.regions == ("FR",)
    assert "no postal table" in loc.note
    assert not loc.has_coordinates


def test_registered_table_matches_longest_prefix():
    geo.register_postal_table(
        "XX", {"12": (1.0, 2.0, "AA", "north"), "12345": (1.5, 2.5, "AB", "north")}
    )
    assert geo.locate("XX", "12345-678").regions == ("XX:123", "XX:AB", "XX:north", "XX")
    assert geo.locate("XX", "12999").lat == 1.0
    assert geo.locate("XX", "99999") is None


def test_haversine_new_york_los_angeles():
    assert geo.haversine_km(40.7128, -74.006, 34.0522, -118.2437) == pytest.approx(3936, rel=0.01)


def test_service_area_radius_and_polygon():
    area = geo.ServiceArea.around(40.75, -73.99, radius_km=10)
    assert area.contains(40.80, -73.95)  # ~6 km away
    assert not area.contains(40.75, -73.80)  # ~16 km east
    square = geo.ServiceArea.polygon([(0, 0), (0, 1), (1, 1), (1, 0)])
    assert square.contains(0.5, 0.5) and not square.contains(1.5, 0.5)
