"""Delay detection: the detectors over shipment snapshots (`detectors.DETECTORS`), and the
services that turn what they find into alerts and `ShipmentDelayed` events:

- `service.detect_for_shipment(session, shipment, now, settings)`: after each tracking event;
- `sweep.scan(session, brand_id, now, settings)`: the scheduled, set-based sweep of a brand.
"""
