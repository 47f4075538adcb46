""" "Auto light and colour" from the order form to the engine: the box on the image's page, the
job that remembers the choice, and the worker that hands it to the engine."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image, ImageStat

from enhancement import storage
from enhancement.jobs import ordering
from enhancement.models import ImageEnhancementJob, JobStatus
from tests.factories import fund, stored_image

pytestmark = pytest.mark.django_db

PHOTOS = Path(__file__).resolve().parents[2] / "bench" / "photos"


@pytest.fixture
def hazy_image(user, settings):
    """A real photo (CC0) with its levels squeezed into 80..170, stored as an upload is."""
    settings.GEMINI_API_KEY = ""  # the local engine
    fund(user, 50)
    with Image.open(PHOTOS / "coffee.png") as photo:
        hazy = photo.convert("RGB").resize((300, 200)).point(lambda v: 80 + v * 90 / 255)
    buffer = io.BytesIO()
    hazy.save(buffer, format="JPEG", quality=92)
    return stored_image(user, data=buffer.getvalue())


@pytest.fixture
def sync_queue(monkeypatch):
    """django-q2 runs tasks inline (its `Conf` read the settings at import)."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


def luma_spread(job: ImageEnhancementJob) -> float:
    with Image.open(io.BytesIO(storage.read_bytes(job.enhanced_r2_key.name))) as result:
        return ImageStat.Stat(result.convert("L")).stddev[0]


def test_the_order_form_offers_auto_light_and_colour_unticked(owner_client, hazy_image):
    page = owner_client.get(reverse("images:detail", args=[hazy_image.pk])).content.decode()
    box = re.search(
        rf'<input type="checkbox" name="auto_adjust" id="auto-adjust-{hazy_image.pk}"[^>]*>', page
    )
    assert box and "checked" not in box[0]
    assert f"{box[0]} Auto light and colour" in page


@pytest.mark.parametrize(("data", "expected"), [({"auto_adjust": "on"}, True), ({}, False)])
def test_the_job_remembers_the_choice(owner_client, hazy_image, data, expected):
    response = owner_client.post(
        reverse("jobs:order", args=[hazy_image.pk]),
        {"tier": "TIER_1K", "request_key": "a" * 32, **data},
    )
    assert response.status_code == 302
    assert ImageEnhancementJob.objects.get().auto_adjust is expected


def test_the_worker_hands_the_choice_to_the_engine(
    user, hazy_image, sync_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        plain = ordering.order_enhancement(
            user=user, image=hazy_image, tier="TIER_1K", request_key=None
        )
        adjusted = ordering.order_enhancement(
            user=user, image=hazy_image, tier="TIER_1K", request_key=None, auto_adjust=True
        )

    plain.refresh_from_db()
    adjusted.refresh_from_db()
    assert plain.status == adjusted.status == JobStatus.COMPLETED
    assert (plain.auto_adjust, adjusted.auto_adjust) == (False, True)
    # The haze stays in the faithful result; the adjusted one spreads the levels out.
    assert luma_spread(adjusted) > 1.5 * luma_spread(plain)
