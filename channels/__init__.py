"""Order sources (sales channels): one package per platform, shaped like `carriers/`
(client / mapping / units), speaking only `shipflow.domain` and `channels.base`.

Orders come in as signed webhooks (stored raw before the 202, like a carrier's) or by
listing what changed since a cursor; fulfilments and tracking events go back out."""
