import logging

from carriers.units import UNKNOWN_STATUS, lookup
from shipflow.domain import Reason, Status

TABLE = {"DL": (Status.DELIVERED, None), "DE": (Status.ATTEMPT_FAILED, Reason.REFUSED)}


def count(carrier, code):
    return UNKNOWN_STATUS.labels(carrier=carrier, code=code)._value.get()


def test_known_code_is_looked_up_without_counting():
    before = count("acme", "DE")
    assert lookup("acme", TABLE, "DE", "Refused") == (Status.ATTEMPT_FAILED, Reason.REFUSED)
    assert count("acme", "DE") == before


def test_unknown_code_defaults_counts_every_time_and_warns_once(caplog):
    caplog.set_level(logging.WARNING, logger="carriers.units")
    before = count("acme", "ZZ")
    assert lookup("acme", TABLE, "ZZ", "Mystery scan") == (Status.IN_TRANSIT, None)
    assert lookup("acme", TABLE, "ZZ", "Mystery scan") == (Status.IN_TRANSIT, None)
    assert count("acme", "ZZ") == before + 2
    warnings = [r for r in caplog.records if "'ZZ'" in r.getMessage()]
    assert len(warnings) == 1
    assert "acme" in warnings[0].getMessage() and "Mystery scan" in warnings[0].getMessage()


def test_caller_chooses_the_default():
    assert lookup("acme", TABLE, "QQ", default=Status.EXCEPTION) == (Status.EXCEPTION, None)
