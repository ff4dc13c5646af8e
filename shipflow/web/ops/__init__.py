"""The ops pages at /ops: a login per brand, the alerts list with acknowledge/resolve, the
failed deliveries waiting for a person, and on-time charts."""
