"""The `shipflow` command with the fake carrier registered, for tests that run the service
as real processes (`shipflow serve`, `worker`, `beat`):

    python -m tests.tracking.process_main --config CONFIG serve --port PORT
"""

from __future__ import annotations

from shipflow.cli import main
from tests.tracking.fake_carrier import register

if __name__ == "__main__":
    register()
    main()
