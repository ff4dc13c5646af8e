"""The process cache of parsed risk models (`risk_store.ParsedModels`): one database's model
is never served for another's, and a brand without one is not asked about on every batch."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from shipflow.delays.risk_store import ParsedModels
from shipflow.store.ops_models import DelayRiskModelRow
from tests.delays.conftest import flat_risk
from tests.statements import statements_sent

LEARNED = datetime(2026, 11, 23, 15, tzinfo=UTC)


def _database() -> Engine:
    """An in-memory database with the models' table: every one has the URL `sqlite://`."""
    engine = create_engine("sqlite://")
    DelayRiskModelRow.__table__.create(engine)  # type: ignore[attr-defined]
    return engine


def _store(engine: Engine, logit: float) -> None:
    with Session(engine) as session, session.begin():
        model = flat_risk(logit).to_dict()
        session.add(DelayRiskModelRow(brand_id="b1", learned_at=LEARNED, checks=1, model=model))


def test_two_in_memory_databases_never_share_a_brands_model():
    models = ParsedModels()
    learned, empty = _database(), _database()
    _store(learned, 1.0)
    with Session(learned) as session:
        assert models.load(session, "b1") is not None
    with Session(empty) as session:
        assert models.load(session, "b1") is None


def test_a_brand_without_a_model_is_read_once_per_recheck():
    engine = _database()
    models = ParsedModels()
    with statements_sent(engine) as sent:
        for _ in range(3):
            with Session(engine) as session:
                assert models.load(session, "b1") is None
    assert len(sent) == 1


def test_a_model_stored_after_its_absence_was_read_is_used_at_the_recheck():
    engine = _database()
    models = ParsedModels(recheck=0.0)
    with Session(engine) as session:
        assert models.load(session, "b1") is None
    _store(engine, 1.0)
    with Session(engine) as session:
        model = models.load(session, "b1")
        assert model is not None and model.weights.weights[0] == 1.0


def test_a_learned_model_waits_for_the_outermost_commit():
    """A savepoint released is not a commit: the transaction around it may still roll back."""
    engine = _database()
    models = ParsedModels()
    with Session(engine) as session:
        with session.begin_nested():
            models.learned(session, "b1", LEARNED, flat_risk(1.0))
        session.rollback()
    with Session(engine) as session:
        assert models.load(session, "b1") is None
