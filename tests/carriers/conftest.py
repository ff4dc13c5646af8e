import pytest
import responses


@pytest.fixture
def mocked():
    """Every carrier call mocked; an unexpected or unused mock fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps
