"""The tracking page's "you might also like": the brand's rules, never what was just bought,
images only from shipflow or the brand's listed https hosts, best sellers from its orders."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shipflow.config import BrandConfig, load_settings
from shipflow.recommendations import BestSellers, best_selling_skus, recommend
from shipflow.store.db import unit_of_work
from shipflow.store.models import Order, OrderLine
from tests.webui.factories import make_shipment, sync_demo_brand
from tests.webui.test_tracking_page import path_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def northwind() -> BrandConfig:
    return load_settings(ROOT / "config.yaml", environ={}).brands[0]


def with_rules(brand: BrandConfig, rules: list[str], count: int = 3) -> BrandConfig:
    theme = brand.theme.model_copy(update={"recommend": rules, "recommend_count": count})
    return brand.model_copy(update={"theme": theme})


def skus(cards) -> list[str]:
    return [card.sku for card in cards]


def test_rules_in_the_brands_order_never_what_was_bought(northwind):
    sellers = ["MUG", "BOOTS-42", "TENT-2P"]
    assert skus(recommend(northwind, {"TENT-2P"}, lambda: sellers)) == [
        "LANTERN",
        "MUG",
        "BOOTS-42",
    ]
    assert skus(recommend(northwind, {"TENT-2P", "MUG"}, lambda: sellers)) == [
        "LANTERN",
        "BOOTS-42",
    ]
    best_first = with_rules(northwind, ["best_sellers", "related"], count=2)
    assert skus(recommend(best_first, {"LANTERN"}, lambda: sellers)) == ["MUG", "BOOTS-42"]


def test_best_sellers_are_only_counted_when_a_rule_asks(northwind):
    def never():
        raise AssertionError("best sellers counted for nothing")

    picked = recommend(with_rules(northwind, ["picked"]), {"MUG"}, never)
    assert [(c.title, c.image_url) for c in picked] == [
        ("Rechargeable camp lantern", "/static/demo/products/lantern.svg")
    ]


@pytest.mark.parametrize(
    ("image_url", "hosts", "error"),
    [
        ("https://cdn.shop.example/mug.jpg", ["https://cdn.shop.example"], None),
        ("/static/demo/products/mug.svg", [], None),
        ("https://cdn.shop.example/mug.jpg", [], "none listed"),
        (
            "https://cdn.shop.example.evil.example/mug.jpg",
            ["https://cdn.shop.example"],
            "image_hosts",
        ),
        ("http://cdn.shop.example/mug.jpg", ["https://cdn.shop.example"], "image_hosts"),
        ("//cdn.shop.example/mug.jpg", [], "image_hosts"),
    ],
)
def test_images_only_from_shipflow_or_the_brands_hosts(northwind, image_url, hosts, error):
    data = northwind.model_dump()
    data["products"][3]["image_url"] = image_url
    data["theme"]["image_hosts"] = hosts
    if error is None:
        assert BrandConfig.model_validate(data).products[3].image_url == image_url
    else:
        with pytest.raises(ValueError, match=error) as raised:
            BrandConfig.model_validate(data)
        assert "products[MUG].image_url" in str(raised.value)


def test_an_image_host_must_be_an_https_origin(northwind):
    data = northwind.model_dump()
    data["theme"]["image_hosts"] = ["http://cdn.shop.example"]
    with pytest.raises(ValueError, match="image_hosts"):
        BrandConfig.model_validate(data)


def order_with(session, brand_id: str, number: str, placed: datetime, lines: dict[str, int]):
    session.add(
        Order(
            brand_id=brand_id,
            order_number=number,
            currency="USD",
            created_at=placed,
            lines=[OrderLine(sku=sku, quantity=q) for sku, q in lines.items()],
        )
    )


def test_best_sellers_count_units_of_the_last_30_days(runtime):
    brand_id = sync_demo_brand(runtime)
    now = datetime(2026, 11, 23, 15, tzinfo=UTC)
    with unit_of_work(runtime.sessions) as session:
        order_with(session, brand_id, "B-1", now - timedelta(days=1), {"MUG": 3, "LANTERN": 1})
        order_with(session, brand_id, "B-2", now - timedelta(days=2), {"LANTERN": 1, "BOOTS-42": 1})
        order_with(session, brand_id, "B-3", now - timedelta(days=40), {"BOOTS-42": 9})
    with runtime.sessions() as session:
        assert best_selling_skus(session, brand_id, now) == ["MUG", "LANTERN", "BOOTS-42"]
        cached = BestSellers()
        assert cached.of(session, brand_id, now) == ["MUG", "LANTERN", "BOOTS-42"]
        order_with(session, brand_id, "B-4", now, {"TENT-2P": 50})
        session.flush()
        assert cached.of(session, brand_id, now)[0] == "MUG"  # counted again after the TTL
        assert BestSellers(ttl_seconds=0).of(session, brand_id, now)[0] == "TENT-2P"


def test_the_page_shows_images_and_leaves_out_the_bought_tent(app, client, runtime):
    shipment = make_shipment(runtime, "delivered")  # its order bought TENT-2P
    html = client.get(path_for(app, shipment)).get_data(as_text=True)
    start = html.index('id="recommended-heading"')
    slot = html[start : html.index("</section>", start)]
    assert '<img src="/static/demo/products/lantern.svg"' in slot
    assert "/demo/products/TENT-2P" not in slot
    assert "Enamel camp mug" in slot
    assert "https://" not in slot  # no request to anyone else by default
