"""The shared status lookup: table hits, and unknown codes warned once and counted."""

from __future__ import annotations

import logging

from carriers.units import UNKNOWN_STATUS, lookup
from shipflow.domain import Reason, Status

TABLE = {"NH": (Status.ATTEMPT_FAILED, Reason.CUSTOMER_UNAVAILABLE)}


def count(code: str) -> float:
    return UNKNOWN_STATUS.labels(carrier="testcarrier", code=code)._value.get()


def test_known_code_is_the_table_entry():
    assert lookup("testcarrier", TABLE, "NH") == (
        Status.ATTEMPT_FAILED,
        Reason.CUSTOMER_UNAVAILABLE,
    )


def test_unknown_code_defaults_warns_once_and_counts_every_time(caplog):
    before = count("ZZ")
    with caplog.at_level(logging.WARNING, logger="carriers.units"):
        assert lookup("testcarrier", TABLE, "ZZ", "odd scan") == (Status.IN_TRANSIT, None)
        assert lookup("testcarrier", TABLE, "ZZ", default=Status.EXCEPTION) == (
            Status.EXCEPTION,
            None,
        )
    assert [r.getMessage() for r in caplog.records] == [
        "testcarrier sent unknown status code 'ZZ' (odd scan); treating it as in_transit"
    ]
    assert count("ZZ") == before + 2
