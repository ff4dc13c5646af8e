"""The one way the adapters (carriers/, channels/) build a `requests.Session` with retries: a
leaf module both may import, since neither package may import the other."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


def session_retrying(retry: Retry) -> requests.Session:
    """A session whose http and https calls are retried as `retry` says."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
