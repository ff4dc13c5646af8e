"""A bad config.yaml stops start-up with one paragraph naming the file, the key and the fix."""

from datetime import time
from pathlib import Path

import pytest
import yaml

from shipflow.carrier_accounts import CarrierFactory
from shipflow.clock import SystemClock
from shipflow.config import ConfigError, load_settings
from shipflow.notify.templates import Milestone, Template

ROOT = Path(__file__).resolve().parents[2]
GOOD = yaml.safe_load((ROOT / "config.yaml").read_text())


def test_shipped_config_is_valid():
    settings = load_settings(ROOT / "config.yaml", environ={})
    brand = settings.brands[0]
    assert len(brand.warehouses) == 3
    assert len({w.timezone for w in brand.warehouses}) == 3
    assert brand.warehouses[0].to_domain().cutoff.hour == 14


def test_environment_overrides_database_url():
    settings = load_settings(ROOT / "config.yaml", environ={"SHIPFLOW_DATABASE_URL": "sqlite://"})
    assert settings.database_url == "sqlite://"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "http://127.0.0.1:8000/demo/ecpay"),
        ({"SHIPFLOW_BASE_URL": "http://127.0.0.1:8080/"}, "http://127.0.0.1:8080/demo/ecpay"),
    ],
)
def test_the_demo_ecpay_follows_the_instance_address(environ, expected):
    """`make run PORT=8080` sets SHIPFLOW_BASE_URL; the simulated ECPay moves with it (its
    account's base_url was a fixed http://127.0.0.1:8000/demo/ecpay: every label refused)."""
    settings = load_settings(ROOT / "config.yaml", environ=environ)
    adapter = CarrierFactory(settings, SystemClock()).account("formosa", "ecpay-demo")
    assert adapter.client.http.base_url == expected


def _write(tmp_path, mutate) -> Path:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    mutate(data)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _warehouse(data, **changes):
    data["brands"][0]["warehouses"][0].update(changes)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["brands"][0].pop("warehouses"), "brands[0].warehouses: this key is required"),
        (lambda d: _warehouse(d, latitude="north"), "brands[0].warehouses[0].latitude"),
        (lambda d: _warehouse(d, timezone="Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (lambda d: _warehouse(d, cutoff="25:00"), "brands[0].warehouses[0].cutoff"),
        (lambda d: _warehouse(d, handling_days=-1), "handling_days: Input should be greater"),
        (
            lambda d: d["brands"][0]["carriers"][0].update(carrier="pigeon"),
            "unknown carrier 'pigeon'",
        ),
        (
            lambda d: d["brands"][0]["warehouses"][1].update(code="EWR"),
            "duplicate warehouse code 'EWR'",
        ),
        (lambda d: _warehouse(d, working_days=["funday"]), "working_days[0]"),
        (lambda d: d["brands"][0]["theme"].update(primary_color="blue"), "primary_color"),
        (lambda d: d.update(databse_url="x"), "databse_url: unknown key"),
        (lambda d: d.update(jobs="celeri"), "jobs: Input should be 'inprocess' or 'celery'"),
        (lambda d: d.update(brands=[]), "brands: List should have at least 1 item"),
        (
            lambda d: d["brands"][0].update(notifications={"templates": {"shiped": {}}}),
            "brands[0].notifications.templates.shiped",
        ),
        (
            lambda d: d["brands"][0].update(notifications={"quiet_hours": {"start": "21:00"}}),
            "brands[0].notifications.quiet_hours.end: this key is required",
        ),
        (
            lambda d: d["brands"][1]["carriers"][0].update(base_url="127.0.0.1:8000/demo/ecpay"),
            "brands[1].carriers[0].base_url: '127.0.0.1:8000/demo/ecpay' is neither a URL",
        ),
        (
            lambda d: d["brands"][0].update(name="Northwind\r\nBcc: all@example.com"),
            "brands[0].name: must not contain control characters (found U+000D)",
        ),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, mutate, expected):
    path = _write(tmp_path, mutate)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert "\n" not in message and "Traceback" not in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"brands:\n  - code: x\n   name: [unclosed\n",
            "malformed YAML at line 3, column 4: expected <block end>, but found",
        ),
        (  # PyYAML kept the second and dropped the first without a word
            b"jobs: celery\nbase_url: http://127.0.0.1:8000\njobs: inprocess\n",
            "malformed YAML at line 3, column 1: the key 'jobs' is also at line 1; keep one.",
        ),
        (  # was a UnicodeDecodeError's traceback
            b"brands:\n  - name: Caf\xe9 Nord\n",
            "line 2 is not UTF-8 text (byte 0xe9); save the file as UTF-8.",
        ),
        (  # was PyYAML's message over two lines, with no line number
            b"jobs: celery\nbase_url: a\x00b\n",
            "line 2 holds the character U+0000, which YAML does not allow; remove it.",
        ),
    ],
)
def test_a_file_that_is_no_yaml_names_the_file_and_the_line(tmp_path, content, expected):
    path = tmp_path / "config.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert message.startswith(f"{path}: ") and expected in message
    assert "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the configuration file"):
        load_settings(tmp_path / "absent.yaml", environ={})


def test_cutoff_written_without_quotes_is_read_as_a_time(tmp_path):
    path = tmp_path / "config.yaml"
    text = yaml.safe_dump(GOOD).replace("cutoff: '14:00'", "cutoff: 14:00")
    assert "cutoff: 14:00" in text
    path.write_text(text)
    assert load_settings(path, environ={}).brands[0].warehouses[0].cutoff.hour == 14


def _with_secret_references(data):
    brand = data["brands"][0]
    brand["carriers"][0]["credentials"] = {"webhook_secret": "${SANDBOX_WEBHOOK_SECRET}"}
    brand["returns"]["store_webhook_url"] = "https://store.example/returns?key=${STORE_KEY}"
    brand["returns"]["store_webhook_secret"] = "${STORE_WEBHOOK_SECRET}"


def test_secrets_are_read_from_the_environment_variables_named(tmp_path):
    path = _write(tmp_path, _with_secret_references)
    environ = {"SANDBOX_WEBHOOK_SECRET": "whsec-1", "STORE_KEY": "k2", "STORE_WEBHOOK_SECRET": "s3"}
    brand = load_settings(path, environ=environ).brands[0]
    assert brand.carriers[0].credentials == {"webhook_secret": "whsec-1"}
    assert brand.returns.store_webhook_url == "https://store.example/returns?key=k2"
    assert brand.returns.store_webhook_secret == "s3"


def test_a_missing_secret_variable_names_the_key_the_file_and_the_variable(tmp_path):
    path = _write(tmp_path, _with_secret_references)
    environ = {"SANDBOX_WEBHOOK_SECRET": "whsec-1", "STORE_KEY": "k2"}
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ=environ)
    message = str(info.value)
    assert str(path) in message and "brands[0].returns.store_webhook_secret" in message
    assert "STORE_WEBHOOK_SECRET" in message and "not set" in message
    assert "\n" not in message


def test_notification_wording_and_quiet_hours_are_typed(tmp_path):
    def mutate(data):
        data["brands"][0]["notifications"] = {
            "quiet_hours": {"start": "22:30", "end": "07:00"},
            "templates": {"delivered": {"ja": {"subject": "届きました", "body": "{{ link }}"}}},
        }

    notifications = load_settings(_write(tmp_path, mutate), environ={}).brands[0].notifications
    assert (notifications.quiet_hours.start, notifications.quiet_hours.end) == (
        time(22, 30),
        time(7, 0),
    )
    assert notifications.templates[Milestone.DELIVERED]["ja"] == Template(
        "届きました", "{{ link }}"
    )
