"""Each page loads its CSS and JS once, in its head and foot; fragments load none (so no
"loaded twice" guard is needed, and an htmx swap never brings a second copy)."""

import pytest
from django.urls import reverse

from enhancement.jobs import ordering

pytestmark = pytest.mark.django_db


def test_the_image_page_loads_the_jobs_assets_once(owner_client, image):
    body = owner_client.get(reverse("images:detail", args=[image.pk])).content.decode()

    assert body.count("enhancement/jobs/jobs.css") == 1
    assert body.count("enhancement/jobs/jobs.js") == 1
    assert body.index("enhancement/jobs/jobs.css") < body.index("</head>")


def test_the_library_loads_the_batch_bar_styles_once(owner_client, image):
    body = owner_client.get(reverse("images:library")).content.decode()

    assert 'id="batch-form"' in body
    assert body.count("enhancement/jobs/jobs.css") == 1
    assert body.index("enhancement/jobs/jobs.css") < body.index("</head>")


def test_the_polled_job_fragment_carries_no_assets(owner_client, funded_user, image):
    job = ordering.order_enhancement(
        user=funded_user, image=image, tier="TIER_1K", request_key=None
    )

    fragment = owner_client.get(reverse("jobs:detail", args=[job.pk]), HTTP_HX_REQUEST="true")

    body = fragment.content.decode()
    assert fragment.status_code == 200 and f'id="job-{job.pk}"' in body
    assert "<script" not in body and "<link" not in body
