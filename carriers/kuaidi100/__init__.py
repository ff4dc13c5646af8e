"""Kuaidi100 (快递100, api.kuaidi100.com): subscribe with push, real-time query; tracking only."""

from carriers.kuaidi100.carrier import Kuaidi100Carrier

__all__ = ["Kuaidi100Carrier"]
