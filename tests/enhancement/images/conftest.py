import pytest

from enhancement import storage


@pytest.fixture
def stored_keys():
    """Every object key in the media storage under users/ (what an upload left behind)."""
    return lambda: storage.list_keys("images/")
