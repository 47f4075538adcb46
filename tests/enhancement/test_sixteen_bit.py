"""Deep greyscale becomes 8 bits one way only: the engine's input made from a stored 16-bit
original (`working_copy`) and an engine reading 16 bits itself scale samples alike (0..65535
onto 0..255, rounded), never clipped. The stored original keeps its 16 bits."""

import io

import pytest
from PIL import Image

from enhancement.engines import LocalEngine, TierSpec
from enhancement.engines.base import normalise_mode
from enhancement.imaging import UploadLimits, normalize_upload, working_copy
from tests import images


@pytest.mark.parametrize(
    ("sample", "expected"), [(0, 0), (200, 1), (32768, 128), (65280, 254), (65535, 255)]
)
def test_uploads_and_engines_scale_16_bit_grey_alike(sample, expected):
    data = images.png16(value=sample)

    stored = normalize_upload(data, limits=UploadLimits())
    assert stored.data == data
    with Image.open(io.BytesIO(working_copy(stored.data))) as original:
        stored_value = original.convert("L").getpixel((0, 0))
    with Image.open(io.BytesIO(data)) as deep:
        engine_value = normalise_mode(deep).getpixel((0, 0))

    assert stored_value == engine_value == expected


@pytest.mark.parametrize(("sample", "expected"), [(0, 0), (32768, 128), (65535, 255)])
@pytest.mark.parametrize("rgb", [False, True])
def test_the_local_engine_keeps_a_flat_16_bit_picture_at_its_level(sample, expected, rgb):
    # A black 16-bit picture once came back flat grey (automatic levels): now it stays black,
    # and grey stays grey, enlarged by the model.
    result = LocalEngine().enhance(
        original=images.png16(64, 48, value=sample, rgb=rgb),
        tier=TierSpec(name="TIER_1K", max_dimension=1024, gemini_size="1K"),
    )
    with Image.open(io.BytesIO(result.data)) as enhanced:
        low, high = enhanced.convert("L").getextrema()
        assert enhanced.size == (1024, 768)
    assert expected - 2 <= low <= high <= expected + 2
