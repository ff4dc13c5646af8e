"""The demo shop: a catalogue and product pages of the demo brand (the first configured
brand), each product page carrying the EDD widget the way a real shop would embed it; and,
under `serve --demo`, the simulated Shopify store's orders with what shipflow wrote back to
each (its fulfilment and fulfilment events, as the order's timeline in Shopify shows them)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g

from shipflow.web.pages import render_page, use_brand

bp = Blueprint("demo", __name__, template_folder="templates")


def _picture(sku: str) -> str:
    """The demo has no photos: a tile with the product's initial stands in."""
    return sku[:1]


def _demo_brand():
    return use_brand(g.runtime.settings.brands[0].code)


@bp.get("/demo/")
def catalogue():
    brand = _demo_brand()
    return render_page("demo/catalogue.html", products=brand.products, picture=_picture)


@bp.get("/demo/products/<sku>")
def product(sku: str):
    brand = _demo_brand()
    item = next((p for p in brand.products if p.sku == sku), None)
    if item is None:
        abort(404)
    return render_page("demo/product.html", product=item, picture=_picture)


# The demo's cart: a tent and two mugs.
DEMO_CART = (("TENT-2P", 1), ("MUG", 2))


def _cart_page(placement: str):
    brand = _demo_brand()
    products = {p.sku: p for p in brand.products}
    lines = [(products[sku], quantity) for sku, quantity in DEMO_CART]
    return render_page("demo/cart.html", lines=lines, placement=placement)


@bp.get("/demo/cart")
def cart():
    """The widget as a cart page embeds it: the cart's lines, the earliest-latest range."""
    return _cart_page("cart")


@bp.get("/demo/checkout")
def checkout():
    """The widget as a checkout embeds it: standard or express, chosen with its price."""
    return _cart_page("checkout")


@bp.get("/demo/shop")
def shop_orders():
    """Newest first; only while the demo runs its simulated store (`serve --demo`)."""
    store = current_app.extensions.get("shipflow.demo_shop")
    if store is None:
        abort(404)
    _demo_brand()
    orders = sorted(store.orders.values(), key=lambda o: o["id"], reverse=True)[:50]
    return render_page(
        "demo/shop_orders.html",
        store=store,
        orders=[(order, store.timeline(order["id"])) for order in orders],
    )
