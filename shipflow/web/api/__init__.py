"""The JSON API: `routes.bp` is its blueprint; one module per resource registers its routes
on it (importing this package imports them all), beside the helpers they share
(idempotency, pagination, schemas)."""

from shipflow.web.api import (  # noqa: F401  (each registers its routes on routes.bp)
    alerts,
    allocations,
    api_keys,
    channels,
    feedback,
    ndr,
    orders,
    returns,
    shipments,
    shopify_app,
    webhook_receipts,
)
