"""EasyPost (docs.easypost.com): a hub for 100+ carriers behind one API key."""

from carriers.easypost.carrier import EasyPostCarrier

__all__ = ["EasyPostCarrier"]
