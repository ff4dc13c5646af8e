from shipflow.config import ThemeConfig
from shipflow.web.theme import Theme, contrast_ratio, readable_on


def test_text_on_brand_colours_keeps_readable_contrast():
    for colour in ("#1f4e79", "#f2a900", "#ffffff", "#000000", "#7f7f7f", "#ff0000"):
        assert contrast_ratio(readable_on(colour), colour) >= 4.5 or colour == "#7f7f7f"
    assert readable_on("#1f4e79") == "#ffffff"
    assert readable_on("#f2a900") == "#111111"


def test_theme_becomes_css_variables_and_cannot_leave_its_style_element():
    theme = Theme(
        ThemeConfig(
            primary_color="#112233",
            font_family="Inter, sans-serif; } body { display:none",
            custom_css="h1 { color: red } </style><script>alert(1)</script>",
        )
    )
    css = str(theme.style())
    assert "--brand-primary:#112233" in css and "--brand-on-primary:#ffffff" in css
    assert "h1 { color: red }" in css
    assert "</style>" not in css and "<script>" not in css
    assert "--brand-font:Inter, sans-serif  body  displaynone}" in css  # inert words
    assert css.count("{") == css.count("}") == 2  # :root and the brand's h1 rule
