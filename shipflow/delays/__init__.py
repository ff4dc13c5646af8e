"""Delay detection: pure detectors over shipment snapshots, and the services that turn
what they find into alerts and `ShipmentDelayed` events:

- `detect_for_shipment(session, shipment, now, settings)`: after each tracking event;
- `scan(session, brand_id, now, settings)`: the scheduled, set-based sweep of a brand.
"""


def __getattr__(name: str):
    # Imported lazily: shipflow.config imports shipflow.delays.config, and the services
    # import shipflow.config, so eager imports here would be circular.
    if name == "detect_for_shipment":
        from shipflow.delays.service import detect_for_shipment

        return detect_for_shipment
    if name == "scan":
        from shipflow.delays.sweep import scan

        return scan
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
