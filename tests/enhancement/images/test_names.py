"""Names and descriptions never carry control characters, and no stored name can break a
download's Content-Disposition header."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from enhancement import storage
from enhancement.models import EnhancedImage, JobStatus
from tests.factories import ImageEnhancementJobFactory, stored_image

pytestmark = pytest.mark.django_db

INJECTION = "evil\r\nX-Injected: yes"


def follow_download(client, url):
    """GET a download route and then the signed media link it redirects to."""
    response = client.get(url)
    assert response.status_code == 302, response.status_code
    return client.get(response["Location"])


def test_renaming_to_a_header_injection_stores_one_clean_line(owner_client, user):
    image = stored_image(user, name="Beach")
    response = owner_client.post(
        reverse("images:edit", args=[image.pk]),
        {"name": INJECTION, "description": "line one\r\nline two\x00\x1b[31m\u202e"},
    )
    assert response.status_code in (200, 302)
    image.refresh_from_db()
    assert image.name == "evil X-Injected: yes"
    assert image.description == "line one\nline two[31m"

    download = follow_download(owner_client, reverse("images:download_original", args=[image.pk]))
    assert download.status_code == 200
    header = download["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    assert "X-Injected" not in {name for name, _ in download.items()}
    assert header.startswith('attachment; filename="evil X-Injected: yes.jpg"')


def test_a_name_of_only_control_characters_is_refused(owner_client, user):
    image = stored_image(user, name="Beach")
    response = owner_client.post(
        reverse("images:edit", args=[image.pk]), {"name": "\r\n\x00\t", "description": ""}
    )
    assert response.status_code == 400 or b"Give the image a name" in response.content
    image.refresh_from_db()
    assert image.name == "Beach"


@pytest.mark.parametrize(
    "stored_name",
    [
        INJECTION,  # written before the forms cleaned names, or straight into the database
        'quote" and \\ backslash',
        "\x01\x7f\x85\u2028",  # (NUL: PostgreSQL stores none, see the junk-input test)
        "ünïcødé 写真 🎉",
        "x" * 255,
        "",
    ],
)
def test_no_stored_name_breaks_a_download(owner_client, user, stored_name):
    image = stored_image(user, name="Beach")
    EnhancedImage.objects.filter(pk=image.pk).update(name=stored_name)
    job = ImageEnhancementJobFactory(image=image, user=user, status=JobStatus.COMPLETED)
    storage.save_bytes(job.enhanced_r2_key.name, b"enhanced bytes")

    urls = [
        reverse("images:download_original", args=[image.pk]),
        reverse("jobs:download", args=[job.pk]),
    ]
    for url in urls:
        download = follow_download(owner_client, url)
        assert download.status_code == 200, url
        header = download["Content-Disposition"]
        assert header.isprintable() and header.isascii(), header
        assert header.count('"') == 2, header
    converted = owner_client.get(reverse("jobs:download", args=[job.pk]), {"format": "png"})
    assert converted.status_code == 409  # the stored bytes are no image: a clear message
    assert b"could not be converted" in converted.content


def test_the_header_keeps_a_clean_name_readable():
    header = storage.attachment_header("Sommer am Fluss – 写真.jpg")
    assert header == (
        "attachment; filename=\"Sommer am Fluss .jpg\"; filename*=UTF-8''"
        "Sommer%20am%20Fluss%20%E2%80%93%20%E5%86%99%E7%9C%9F.jpg"
    )


def test_the_models_refuse_control_characters_where_forms_are_bypassed(user):
    image = stored_image(user, name="Beach")
    image.name = INJECTION
    with pytest.raises(ValidationError):
        image.full_clean()
    image.name = "Fine"
    image.description = "two\nlines\tand a tab"
    image.full_clean()
    user.public_name = "Ann\r\nSet-Cookie: x"
    with pytest.raises(ValidationError):
        user.full_clean()
