from datetime import UTC, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2.exceptions import SecurityError

from shipflow.notify import templates
from shipflow.notify.templates import (
    DEFAULTS,
    Milestone,
    Template,
    pick_language,
    render,
    template_for,
)
from shipflow.notify.timing import message_key, send_time

CONTEXT = {
    "brand": "Northwind",
    "order_number": "1001",
    "delivery_date": "Thu, 26 Nov",
    "link": "https://t/1",
    "feedback_link": "https://t/1#feedback",
    "action_link": "https://n/1",
    "label_link": "https://r/1",
    "amount": "$39.00",
    "pickup_name": "Corner Mart Loop",
    "pickup_address": "120 S State St, Chicago, IL, 60603",
    "pickup_hours": "Mon-Sat 08:00-22:00",
    "pickup_deadline": "Sat, Nov 28",
}


@pytest.mark.parametrize("language", sorted(DEFAULTS))
@pytest.mark.parametrize("milestone", list(Milestone))
def test_every_default_renders_in_every_language(language, milestone):
    message = render(template_for(milestone, language, None), CONTEXT)
    assert message.subject and message.body
    assert "{{" not in message.subject + message.body


def test_brand_override_wins_for_its_language_only():
    overrides = {Milestone.SHIPPED: {"en": Template("Shipped! {{ order_number }}", "Yay")}}
    assert (
        render(template_for(Milestone.SHIPPED, "en", overrides), CONTEXT).subject == "Shipped! 1001"
    )
    assert "已出貨" in template_for(Milestone.SHIPPED, "zh-Hant", overrides).subject


def test_brand_templates_cannot_reach_python():
    evil = Template("{{ ''.__class__.__mro__[1].__subclasses__() }}", "")
    with pytest.raises(SecurityError):
        render(evil, CONTEXT)


def _as_jinja_renders(source: str, context: dict) -> str:
    """What the sandbox's own render gives (or the error it raises, as text)."""
    try:
        return templates._sandbox.from_string(source).render(context)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def _as_rendered(source: str, context: dict) -> str:
    try:
        return templates._compiled(source)(context)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("language", sorted(DEFAULTS))
@pytest.mark.parametrize("milestone", list(Milestone))
def test_defaults_render_as_jinja_renders_them(language, milestone):
    template = DEFAULTS[language][milestone]
    for source in (template.subject, template.body):
        assert _as_rendered(source, CONTEXT) == _as_jinja_renders(source, CONTEXT)


def test_plain_wordings_are_joined_without_jinja():
    """Text and `{{ name }}`s only: the parts, not a Jinja render (the cost of one)."""
    shipped = DEFAULTS["en"][Milestone.SHIPPED]
    assert templates._compiled(shipped.body) != templates._sandbox.from_string(shipped.body).render
    assert templates._text_and_names(templates._sandbox.parse(shipped.body)) is not None
    pickup = DEFAULTS["en"][Milestone.READY_FOR_PICKUP].body  # {% if %}: Jinja's
    assert templates._text_and_names(templates._sandbox.parse(pickup)) is None


_PIECES = st.one_of(
    st.text(st.characters(blacklist_characters="{}%#", blacklist_categories=["Cs"]), max_size=8),
    st.sampled_from(
        [
            "{{ brand }}",
            "{{order_number}}",
            "{{- link -}}",
            " {{ amount }}\n",
            "{{ missing }}",
            "{{ range }}",
            "{{ brand|upper }}",
            "{{ brand.__class__ }}",
            "{{ 'x' }}",
            "{% if amount %}{{ amount }}{% endif %}",
            "{# a note #}",
            "{% set brand = 'Other' %}",
            "\n",
            "\r\n",
        ]
    ),
)
_VALUES = st.one_of(st.text(max_size=6), st.integers(), st.none(), st.floats(allow_nan=False))


@given(
    pieces=st.lists(_PIECES, max_size=8),
    values=st.fixed_dictionaries(
        {"brand": _VALUES, "order_number": _VALUES, "link": _VALUES},
        optional={"amount": _VALUES},
    ),
)
def test_any_wording_renders_as_jinja_renders_it(pieces, values):
    """Joined or by Jinja, the same text for every wording a brand may write, and the same
    error for a name the context lacks or a wording the sandbox refuses."""
    source = "".join(pieces)
    assert _as_rendered(source, values) == _as_jinja_renders(source, values)


@pytest.mark.parametrize(
    ("wanted", "offered", "expected"),
    [("ja", ["en", "ja"], "ja"), ("fa-IR", ["en", "fa"], "fa"), ("de", ["en", "ja"], "en")],
)
def test_pick_language(wanted, offered, expected):
    assert pick_language(wanted, offered) == expected


QUIET = (time(21, 0), time(8, 0))


@pytest.mark.parametrize(
    ("now_utc", "zone", "expected_utc"),
    [
        # 15:00 in New York: send now
        (
            datetime(2026, 11, 23, 20, 0, tzinfo=UTC),
            "America/New_York",
            datetime(2026, 11, 23, 20, 0, tzinfo=UTC),
        ),
        # 22:30 in New York: wait for 08:00 local next day (13:00 UTC)
        (
            datetime(2026, 11, 24, 3, 30, tzinfo=UTC),
            "America/New_York",
            datetime(2026, 11, 24, 13, 0, tzinfo=UTC),
        ),
        # 06:00 in Los Angeles: wait for 08:00 local the same day (16:00 UTC)
        (
            datetime(2026, 11, 24, 14, 0, tzinfo=UTC),
            "America/Los_Angeles",
            datetime(2026, 11, 24, 16, 0, tzinfo=UTC),
        ),
        # the night before the DST change in New York (08:00 EDT on 8 Mar 2026 = 12:00 UTC)
        (
            datetime(2026, 3, 8, 4, 0, tzinfo=UTC),
            "America/New_York",
            datetime(2026, 3, 8, 12, 0, tzinfo=UTC),
        ),
    ],
)
def test_quiet_hours_in_customer_zone(now_utc, zone, expected_utc):
    assert send_time(now_utc, zone, *QUIET) == expected_utc


def test_message_key_is_stable_and_distinct():
    assert message_key("s1", "shipped", "email") == message_key("s1", "shipped", "email")
    assert message_key("s1", "shipped", "email") != message_key("s1", "shipped", "sms")
    assert message_key("s1", "delayed", "email", "2026-11-27") != message_key(
        "s1", "delayed", "email", "2026-11-28"
    )
