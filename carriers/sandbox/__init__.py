"""The sandbox carrier network: a simulated carrier for the demo, development and benchmarks,
reached through the same interface, polls and signed webhooks as a real one."""

from carriers.sandbox.carrier import SandboxCarrier, ShipmentBook
from carriers.sandbox.emitter import SandboxEmitter, WebhookDelivery
from carriers.sandbox.network import SandboxProfile

__all__ = ["SandboxCarrier", "SandboxEmitter", "SandboxProfile", "ShipmentBook", "WebhookDelivery"]
