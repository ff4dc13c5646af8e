from shipflow.web.ratelimit import RateLimiter


def test_each_client_gets_its_own_sliding_window():
    now = [0.0]
    limiter = RateLimiter(limit=2, window_seconds=60, now=lambda: now[0])
    assert limiter.allow("a") and limiter.allow("a")
    assert not limiter.allow("a")
    assert limiter.allow("b")
    now[0] = 59.9
    assert not limiter.allow("a")
    now[0] = 60.1
    assert limiter.allow("a")
