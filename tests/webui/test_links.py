from datetime import timedelta

import pytest

from shipflow import shipment_links as links
from shipflow.clock import FixedClock
from shipflow.config import load_settings
from shipflow.runtime import Runtime
from tests.conftest import ROOT
from tests.fakes import TEST_SECRET_KEY


@pytest.fixture
def rt():
    environ = {"SHIPFLOW_DATABASE_URL": "sqlite://", "SHIPFLOW_SECRET_KEY": TEST_SECRET_KEY}
    settings = load_settings(ROOT / "config.yaml", environ=environ)
    return Runtime.from_settings(settings, clock=FixedClock())


def test_a_token_names_its_brand_and_shipment(rt):
    token = links.make_token(rt, links.TRACKING, "northwind", "shp_1")
    assert links.read_token(rt, links.TRACKING, "northwind", token) == "shp_1"


def test_tampered_other_purpose_or_other_brand_is_invalid(rt):
    token = links.make_token(rt, links.TRACKING, "northwind", "shp_1")
    with pytest.raises(links.LinkInvalid):
        links.read_token(rt, links.TRACKING, "northwind", token[:-2] + "xx")
    with pytest.raises(links.LinkInvalid):
        links.read_token(rt, "ndr", "northwind", token)
    with pytest.raises(links.LinkInvalid):
        links.read_token(rt, links.TRACKING, "other", token)


def test_links_expire_on_the_runtime_clock(rt):
    token = links.make_token(rt, links.TRACKING, "northwind", "shp_1")
    rt.clock.advance(timedelta(days=rt.settings.link_max_age_days, hours=-1))
    assert links.read_token(rt, links.TRACKING, "northwind", token) == "shp_1"
    rt.clock.advance(timedelta(hours=2))
    with pytest.raises(links.LinkExpired):
        links.read_token(rt, links.TRACKING, "northwind", token)


def test_tracking_link_is_absolute_outside_a_request(rt):
    url = links.tracking_link("northwind", "shp_1", runtime=rt)
    assert url.startswith(rt.settings.base_url + "/t/northwind/")
    token = url.rsplit("/", 1)[1]
    assert links.read_token(rt, links.TRACKING, "northwind", token) == "shp_1"
