"""/healthz and /metrics, and the request counters behind them."""
