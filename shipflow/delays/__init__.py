"""Delay detection: the detectors over shipment snapshots (`detectors.DETECTORS`), and the
services that turn what they find into alerts and `ShipmentDelayed` events:

- `service.detect_for_shipments(session, shipments, now, settings)`: after each batch of
  tracking events, set-based;
- `sweep.scan(session, brand_id, now, settings)`: the scheduled, set-based sweep of a brand.
"""
