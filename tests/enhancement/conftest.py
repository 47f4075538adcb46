import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from enhancement import storage


@pytest.fixture
def stored_keys():
    """Every object key in the media storage under users/ (what an upload left behind)."""
    return lambda: storage.list_keys("users/")


def upload_file(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)
