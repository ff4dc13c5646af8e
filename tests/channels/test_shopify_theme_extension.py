"""The Shopify theme app extension: one app block on product pages that loads the widget
script shipflow serves with the selected variant's SKU and the brand's code, every
merchant- or shopper-given value escaped, every label translated."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]
EXTENSION = ROOT / "integrations/shopify/extensions/shipflow-edd"
BLOCK = (EXTENSION / "blocks/edd.liquid").read_text()
ROUTES = ROOT / "shipflow/web/widget/routes.py"


def schema() -> dict:
    return json.loads(BLOCK[BLOCK.index("{% schema %}") + 12 : BLOCK.index("{% endschema %}")])


def test_it_is_a_theme_extension() -> None:
    assert tomllib.loads((EXTENSION / "shopify.extension.toml").read_text())["type"] == "theme"


def test_the_block_loads_the_widget_script_shipflow_serves_with_sku_and_brand() -> None:
    assert "/widget/v1/edd-widget.js" in BLOCK
    assert '@bp.get("/widget/v1/edd-widget.js")' in ROUTES.read_text()
    assert 'data-sku="{{ variant.sku | escape }}"' in BLOCK
    assert 'data-brand="{{ brand | escape }}"' in BLOCK
    assert "product.selected_or_first_available_variant" in BLOCK


# Printed as Shopify makes them: ids, its own attributes, the locale code, translations.
SHOPIFYS_OWN = {
    "block.id",
    "block.shopify_attributes",
    "request.locale.iso_code",
    "'shipflow_edd.label' | t",
}


def test_every_value_a_merchant_or_shopper_gives_is_escaped() -> None:
    printed = [p.strip() for p in re.findall(r"\{\{(.*?)\}\}", BLOCK.split("{% schema %}")[0])]
    given = [p for p in printed if p not in SHOPIFYS_OWN]
    assert len(given) == 4  # the address, the brand, the SKU, the country
    assert all(p.endswith("| escape") for p in given), given


def test_the_block_is_on_product_pages_with_its_settings() -> None:
    block = schema()
    assert block["enabled_on"] == {"templates": ["product"]}
    assert [s["id"] for s in block["settings"]] == ["shipflow_url", "brand", "country"]


def test_every_label_has_an_english_text() -> None:
    texts = json.loads((EXTENSION / "locales/en.default.schema.json").read_text())
    keys = re.findall(r'"t:([\w.]+)"', json.dumps(schema()))
    for key in keys:
        node = texts
        for part in key.split("."):
            node = node[part]
        assert isinstance(node, str) and node, key
    storefront = json.loads((EXTENSION / "locales/en.default.json").read_text())
    assert storefront["shipflow_edd"]["label"]
    assert "'shipflow_edd.label' | t" in BLOCK
