"""Install links for our Shopify app: a brand connects its Shopify shop by opening one."""

from __future__ import annotations

from flask import g
from flask_openapi3 import Tag
from pydantic import BaseModel

from shipflow import shopify_install
from shipflow.web.api.idempotency import idempotent
from shipflow.web.api.routes import bp
from shipflow.web.api.schemas import Input
from shipflow.web.problems import ApiProblem

TAG = Tag(name="channels")


class InstallLinkIn(Input):  # unknown fields refused, as on every body
    shop: str  # the shop's myshopify.com domain


class InstallLink(BaseModel):
    url: str
    expires_in: int  # seconds


@bp.post("/channels/shopify/install-links", tags=[TAG], responses={201: InstallLink})
@idempotent
def create_install_link(body: InstallLinkIn):
    """A link for the merchant to open: Shopify asks them to approve our app for the shop,
    then the shop is connected to your brand and its order webhooks subscribed."""
    try:
        url = shopify_install.install_link(
            g.runtime.settings, g.brand_id, body.shop, g.runtime.clock
        )
    except shopify_install.InstallRefused as exc:
        raise ApiProblem(
            422 if exc.status == 400 else exc.status, "Cannot make an install link", str(exc)
        ) from None
    expires = int(shopify_install.STATE_MAX_AGE.total_seconds())
    return {"url": url, "expires_in": expires}, 201
