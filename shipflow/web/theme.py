"""A brand's look (config `theme`) as CSS custom properties for the shared base template.

Text colours on the brand colours are chosen by contrast (WCAG relative luminance), so a
pale brand colour never ends up under white text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup

from shipflow.config import ThemeConfig


def _luminance(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable_on(background: str) -> str:
    """Black or white, whichever reads better on `background`."""
    return max(("#ffffff", "#111111"), key=lambda text: contrast_ratio(text, background))


def _css_safe(text: str) -> str:
    """Keep configured CSS inside its <style> element."""
    return text.replace("<", "\\3c ")


def _font_list(text: str) -> str:
    """A font-family value and nothing more: names, quotes, commas, spaces, hyphens."""
    return re.sub(r"[^\w\s,'\"-]", "", text)


@dataclass(frozen=True)
class Theme:
    config: ThemeConfig

    def style(self) -> Markup:
        """The <style> body: brand variables, then the brand's own CSS."""
        c = self.config
        variables = {
            "--brand-primary": c.primary_color,
            "--brand-on-primary": readable_on(c.primary_color),
            "--brand-accent": c.accent_color,
            "--brand-on-accent": readable_on(c.accent_color),
            "--brand-font": _font_list(c.font_family),
        }
        body = ";".join(f"{name}:{value}" for name, value in variables.items())
        return Markup(f":root{{{body}}}\n{_css_safe(c.custom_css)}")
