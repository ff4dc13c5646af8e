from shipflow import shipment_links as links
from shipflow.cli import main
from shipflow.clock import SystemClock
from tests.webui.factories import BRAND, make_shipment


def test_tracking_link_command_prints_a_working_link(runner, runtime, client, clock):
    shipment = make_shipment(runtime)
    clock.current = SystemClock().now()  # the command signs on the real clock
    env = {"SHIPFLOW_DATABASE_URL": runtime.settings.database_url}
    result = runner.invoke(main, ["tracking-link", shipment], env=env)
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith(runtime.settings.base_url + f"/t/{BRAND}/")
    assert links.read_token(runtime, links.TRACKING, BRAND, url.rsplit("/", 1)[1]) == shipment
    assert client.get(url.removeprefix(runtime.settings.base_url)).status_code == 200
    assert runner.invoke(main, ["tracking-link", "shp_nope"], env=env).exit_code == 2
