"""Our Shopify app's pages: the app URL Shopify opens (`/shopify/install`), the redirect URI
the merchant comes back to (`/shopify/callback`) and the compliance webhooks' URL
(`/shopify/compliance`). Errors are problem+json."""

from __future__ import annotations

from flask import Blueprint, g, redirect, request

from channels.base import ChannelError
from shipflow import shopify_install
from shipflow.channel_accounts import ShopTaken
from shipflow.domain import WebhookRequest
from shipflow.web.problems import Problem, problem_response

bp = Blueprint("shopify_app", __name__, url_prefix="/shopify")


def _refused(status: int, detail: str):
    return problem_response(Problem(title="Shopify install refused", status=status, detail=detail))


@bp.get("/install")
def install():
    try:
        url = shopify_install.authorize_reinstall(
            g.db, g.runtime.settings, request.args.to_dict(), g.runtime.clock
        )
    except shopify_install.InstallRefused as exc:
        return _refused(exc.status, str(exc))
    return redirect(url)


@bp.get("/callback")
def callback():
    try:
        account = shopify_install.complete_install(
            g.db, g.runtime, request.args.to_dict(), g.runtime.clock
        )
    except shopify_install.InstallRefused as exc:
        return _refused(exc.status, str(exc))
    except ShopTaken as exc:
        return _refused(409, f"{exc}; disconnect it there first")
    except ChannelError as exc:
        return _refused(502, f"Shopify did not complete the install: {exc}; try again")
    g.db.commit()
    return redirect(f"https://{account.shop}/admin/apps")


@bp.post("/compliance")
def compliance():
    """`customers/data_request`, `customers/redact`, `shop/redact`: 200 once ops are told."""
    try:
        done = shopify_install.receive_privacy_request(
            g.db,
            g.runtime.settings,
            WebhookRequest(dict(request.headers), request.get_data()),
            g.runtime.clock.now(),
        )
    except shopify_install.InstallRefused as exc:
        return problem_response(
            Problem(title="Shopify webhook refused", status=exc.status, detail=str(exc))
        )
    g.db.commit()
    return {"done": done}
