"""Latin text left to the surrounding direction on a right-to-left page: outside <bdi>,
dir="ltr" and dir="auto", a Latin address or number is laid out in the wrong order."""

import re
from html.parser import HTMLParser


class _UnisolatedLatin(HTMLParser):
    ISOLATING = ("bdi", "textarea", "script", "style", "title", "head")
    VOID = ("br", "img", "input", "meta", "link", "hr", "source", "wbr")

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag in self.ISOLATING or dict(attrs).get("dir") in ("ltr", "auto"))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if re.search(r"[A-Za-z]", data) and not any(self.stack):
            self.found.append(data.strip())


def unisolated_latin(html: str) -> list[str]:
    parser = _UnisolatedLatin()
    parser.feed(html)
    return parser.found
