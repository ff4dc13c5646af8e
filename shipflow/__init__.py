"""shipflow: a self-hosted shipping and post-purchase orchestrator."""

__version__ = "0.1.0"
