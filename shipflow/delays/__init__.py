"""Delay detection: pure detectors over shipment snapshots, and the services that turn
what they find into alerts and `ShipmentDelayed` events."""
