"""Sandbox behaviours the tests pin down: every parcel on time, or every delivery attempt
missed (customer unavailable) and missed again."""

from carriers.sandbox.network import SandboxProfile

CALM = SandboxProfile(late_rate=0, failed_attempt_rate=0, exception_rate=0, loss_rate=0)
ALWAYS_MISSED = SandboxProfile(
    late_rate=0,
    exception_rate=0,
    loss_rate=0,
    failed_attempt_rate=1.0,
    refail_rate=1.0,
    failure_reason_weights=(1, 0, 0, 0),
)
