import pytest

from shipflow.web import i18n


@pytest.fixture(autouse=True)
def _fresh_catalogs():
    """Catalogs are cached per process; tests that edit none still start from the files."""
    yield
    i18n.translations.cache_clear()
