"""The EDD's background work: retrain each brand's transit model once a day."""

from __future__ import annotations

from shipflow.edd.retrain import retrain_due
from shipflow.jobs import job
from shipflow.runtime import Runtime


@job("edd.retrain", every=3600)  # looks hourly; trains a brand whose model is a day old
def retrain(runtime: Runtime) -> int:
    return retrain_due(runtime)
