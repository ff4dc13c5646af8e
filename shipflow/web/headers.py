"""Security headers on every response. Pages load scripts, styles, fonts and forms from
here only and cannot be framed (the ops Resolve/Acknowledge forms are one click). The two
<style> elements (a brand's theme, the ops pages) carry this response's nonce; images may
come from a brand's own https site (logo, recommendations). The widget script and its JSON
still load on brand sites: a policy governs the page that uses a resource, not the resource,
and their CORS headers are the widget blueprint's."""

from __future__ import annotations

import secrets

from flask import Flask, Response, g

POLICY = (
    "default-src 'self'; script-src 'self'{nonce}; style-src 'self'{nonce}; "
    "img-src 'self' https: data:; font-src 'self' https: data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "strict-origin-when-cross-origin",  # pages about one parcel: no-referrer
}


def csp_nonce() -> str:
    """This response's nonce, for templates' <style> and <script> elements."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


WITHOUT_NONCE = POLICY.format(nonce="")  # most responses: JSON, pages without <style>


def content_security_policy() -> str:
    nonce = g.get("csp_nonce")
    return POLICY.format(nonce=f" 'nonce-{nonce}'") if nonce else WITHOUT_NONCE


def add_headers(response: Response) -> Response:
    """Each header the view has not set itself (one pass over the response's headers, where
    `setdefault` took three a header)."""
    present = {name.lower() for name, _ in response.headers.items()}
    if "content-security-policy" not in present:
        response.headers.add("Content-Security-Policy", content_security_policy())
    for name, value in HEADERS.items():
        if name.lower() not in present:
            response.headers.add(name, value)
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(add_headers)
