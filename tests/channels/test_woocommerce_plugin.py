"""The WooCommerce widget plugin is valid PHP and embeds the widget the way shipflow serves it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PLUGIN = ROOT / "integrations/woocommerce/shipflow-edd/shipflow-edd.php"
ROUTES = ROOT / "shipflow/web/widget/routes.py"


@pytest.mark.skipif(
    shutil.which("php") is None, reason="php is not installed (apt-get install php-cli)"
)
def test_the_plugin_is_valid_php() -> None:
    result = subprocess.run(["php", "-l", str(PLUGIN)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_plugin_loads_the_widget_script_shipflow_serves() -> None:
    source = PLUGIN.read_text()
    assert "'widget/v1/edd-widget.js'" in source
    assert '@bp.get("/widget/v1/edd-widget.js")' in ROUTES.read_text()
    for attribute in ("data-brand", "data-sku", "data-country", "data-lang", "data-target"):
        assert f'{attribute}="' in source


def test_every_printed_value_is_escaped() -> None:
    """Each `%N$s` of the embed is filled by esc_attr/esc_url, and the hook and shortcode exist."""
    source = PLUGIN.read_text()
    embed = source[source.index("return sprintf(") : source.index("/** The current product")]
    assert len(re.findall(r"esc_(?:attr|url)\(", embed)) == 6
    assert "add_shortcode( 'shipflow_edd'" in source
    assert "add_action( 'woocommerce_single_product_summary'" in source
