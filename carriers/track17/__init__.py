"""17TRACK Tracking API v2.2 (api.17track.net): the long tail, Yamato, Sagawa and Japan Post
among it. Registered as "17track"; tracking only."""

from carriers.track17.carrier import Track17Carrier

__all__ = ["Track17Carrier"]
