"""SF Express (顺丰开放平台 / 丰桥 standard API): orders, route query and push, cancel."""

from carriers.sf.carrier import SFCarrier

__all__ = ["SFCarrier"]
