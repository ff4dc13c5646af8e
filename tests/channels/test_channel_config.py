"""A brand's shops in config.yaml: validated by name, synced to the database without their
credentials."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shipflow.brands import sync_brands
from shipflow.config import ConfigError, parse_settings
from shipflow.store.db import unit_of_work
from shipflow.store.models import Base, ChannelAccount
from tests.channels.conftest import SECRETS
from tests.tracking.fake_carrier import fake_config


def test_an_unknown_channel_names_the_key_and_the_known_ones():
    raw = fake_config("sqlite://")
    raw["brands"][-1]["channels"] = [{"code": "web", "channel": "shopfy", "shop": "x.example"}]
    with pytest.raises(ConfigError) as error:
        parse_settings(raw, "config.yaml", environ={})
    last = len(raw["brands"]) - 1
    assert f"brands[{last}].channels[0].channel: unknown channel 'shopfy'" in str(error.value)
    assert "known channels: sandbox" in str(error.value)


def test_shop_credentials_stay_out_of_the_database(runtime):
    with unit_of_work(runtime.sessions) as session:
        sync_brands(session, runtime.settings)
    with runtime.sessions() as session:
        shop = session.scalar(select(ChannelAccount.shop).where(ChannelAccount.code == "web"))
        stored = [
            str(row)
            for table in Base.metadata.sorted_tables
            for row in session.execute(select(table))
        ]
    assert shop == "tb-shop.example"
    assert stored and not [row for row in stored if SECRETS["tb"] in row]
