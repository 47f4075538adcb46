"""Deep greyscale becomes 8 bits one way only: an upload's stored original and an engine's
input scale 16-bit samples alike (0..65535 onto 0..255, rounded), never clipped."""

import io

import pytest
from PIL import Image

from enhancement.engines.base import normalise_mode
from enhancement.imaging import UploadLimits, normalize_upload
from tests import images


@pytest.mark.parametrize(
    ("sample", "expected"), [(0, 0), (200, 1), (32768, 128), (65280, 254), (65535, 255)]
)
def test_uploads_and_engines_scale_16_bit_grey_alike(sample, expected):
    data = images.png16(value=sample)

    stored = normalize_upload(data, limits=UploadLimits())
    with Image.open(io.BytesIO(stored.data)) as original:
        stored_value = original.convert("L").getpixel((0, 0))
    with Image.open(io.BytesIO(data)) as deep:
        engine_value = normalise_mode(deep).getpixel((0, 0))

    assert stored_value == engine_value == expected
