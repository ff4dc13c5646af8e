from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from shipflow.clock import FixedClock
from shipflow.links import LinkExpired, LinkInvalid, make_token, read_token

DAY = timedelta(days=1)


def test_round_trip():
    token = make_token("s3cret", "ndr", {"case": "ndr_1"})
    assert read_token("s3cret", "ndr", token, DAY) == {"case": "ndr_1"}


def test_tokens_are_itsdangerous_tokens_both_ways():
    """Links sent before (and by other instances) still open, and ours open elsewhere: the
    signature is itsdangerous's own HMAC-SHA1, however it is computed."""
    theirs = URLSafeTimedSerializer("s3cret", salt="shipflow.ndr")
    ours = make_token("s3cret", "ndr", {"case": "ndr_1", "é": [1, 2]})
    assert theirs.loads(ours) == {"case": "ndr_1", "é": [1, 2]}
    assert read_token("s3cret", "ndr", theirs.dumps({"case": "ndr_2"}), DAY) == {"case": "ndr_2"}


@pytest.mark.parametrize(
    ("secret", "purpose", "mutate"),
    [
        ("other", "ndr", lambda t: t),
        ("s3cret", "returns", lambda t: t),
        ("s3cret", "ndr", lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB")),
        ("s3cret", "ndr", lambda t: "garbage"),
    ],
)
def test_tampered_or_misused_tokens_are_rejected(secret, purpose, mutate):
    token = make_token("s3cret", "ndr", {"case": "ndr_1"})
    with pytest.raises(LinkInvalid):
        read_token(secret, purpose, mutate(token), DAY)


def test_expired_token_on_the_given_clock():
    clock = FixedClock()
    token = make_token("s3cret", "ndr", "x", clock)
    clock.advance(DAY - timedelta(seconds=1))
    assert read_token("s3cret", "ndr", token, DAY, clock) == "x"
    clock.advance(timedelta(seconds=2))
    with pytest.raises(LinkExpired):
        read_token("s3cret", "ndr", token, DAY, clock)


@pytest.mark.parametrize(("ahead_s", "fresh"), [(0.2, True), (5, True), (7, False)])
def test_a_token_from_a_server_whose_clock_runs_ahead(ahead_s, fresh):
    # signed on another server's clock, read here: a few seconds ahead is that server's skew,
    # more is a token signed in the future
    here = FixedClock()
    here.current = here.current.replace(microsecond=900_000)  # the signer counts whole seconds
    there = FixedClock(here.now() + timedelta(seconds=ahead_s))
    token = make_token("s3cret", "ndr", "x", there)
    if fresh:
        assert read_token("s3cret", "ndr", token, DAY, here) == "x"
    else:
        with pytest.raises(LinkInvalid):
            read_token("s3cret", "ndr", token, DAY, here)


class _At(TimestampSigner):
    """itsdangerous's own signer at a given time."""

    at = 0

    def get_timestamp(self) -> int:
        return self.at


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _compressed(data) -> bool:
    """Whether itsdangerous compresses `data`'s payload (its token then starts with ".")."""
    return URLSafeTimedSerializer("k").dumps(data).startswith(".")


@given(
    data=JSON,
    secret=st.text(min_size=1),
    purpose=st.sampled_from(["tracking", "ndr", "returns", "é"]),
    at=st.integers(0, 2**37),  # to the year 6325
)
@example(data={"b": "northwind", "s": "shp_" + "7" * 80}, secret="k", purpose="tracking", at=0)
def test_our_tokens_are_the_ones_itsdangerous_makes_uncompressed(data, secret, purpose, at):
    """Byte for byte at any time, written out, not by its serializer, wherever itsdangerous
    would not compress the payload either (every payload of random ids, so every tracking
    link); its serializer reads ours always."""
    _At.at = at
    theirs = URLSafeTimedSerializer(secret, salt=f"shipflow.{purpose}", signer=_At)
    clock = FixedClock(datetime.fromtimestamp(at + 0.75, UTC))
    ours = make_token(secret, purpose, data, clock)
    assert not ours.startswith(".")
    assert theirs.loads(ours) == data
    if not _compressed(data):
        assert ours == theirs.dumps(data)


def test_a_token_is_never_compressed():
    """Golden: a payload that compresses is signed as it is (zlib's set-up cost more than a
    third of a tracking link, to shorten none of them: their ids are random)."""
    clock = FixedClock(datetime.fromtimestamp(1_800_000_000.25, UTC))
    token = make_token("k", "tracking", {"b": "northwind", "s": "shp_" + "7" * 40}, clock)
    assert token == (
        "eyJiIjoibm9ydGh3aW5kIiwicyI6InNocF83Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3In0"
        ".a0nSAA.owG8M-w2j-8danT4tSVY7mSh1EY"
    )
    assert read_token("k", "tracking", token, DAY, clock) == {
        "b": "northwind",
        "s": "shp_" + "7" * 40,
    }


def test_a_compressed_token_made_before_still_opens():
    """Links sent before tokens stopped being compressed (itsdangerous's format, which a
    payload that compresses took) keep opening until they expire."""
    clock = FixedClock(datetime.fromtimestamp(1_800_000_000.25, UTC))
    _At.at = 1_800_000_000
    data = {"b": "northwind", "s": "shp_" + "7" * 80}
    before = URLSafeTimedSerializer("k", salt="shipflow.tracking", signer=_At).dumps(data)
    assert before.startswith(".")
    assert read_token("k", "tracking", before, DAY, clock) == data
    clock.advance(DAY + timedelta(seconds=1))
    with pytest.raises(LinkExpired):
        read_token("k", "tracking", before, DAY, clock)
