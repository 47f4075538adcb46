"""An image's page and its actions: details, rename, publish, download, delete, view count.

Every page and action is tried as the owner, as another user (404, nothing changes) and
anonymously (sent to log in)."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from core.ids import new_id
from enhancement import storage
from enhancement.images import forms, services
from enhancement.models import EnhancedImage, ImageEnhancementJob, JobStatus
from tests import images
from tests.factories import (
    EnhancedImageFactory,
    ImageEnhancementJobFactory,
    UserFactory,
    stored_image,
)
from tests.media import media_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def image(user):
    return stored_image(user, name="Sunset")


def url(name, image):
    return reverse(f"images:{name}", args=[image.pk])


# (method, url name, POST data) for every page and action of an image
ACTIONS = [
    ("get", "detail", None),
    ("post", "edit", {"name": "Stolen", "description": "x"}),
    ("post", "publish", {"is_public": "on"}),
    ("get", "delete", None),
    ("post", "delete", {}),
    ("get", "download_original", None),
]


# --- owner / stranger / anonymous ---------------------------------------------------------------
@pytest.mark.parametrize(("method", "name", "data"), ACTIONS)
def test_a_stranger_gets_404_for_every_page_and_action_and_nothing_changes(
    stranger_client, image, method, name, data
):
    keys_before = storage.list_keys(storage.image_prefix(image_id=image.pk))

    response = getattr(stranger_client, method)(url(name, image), data or {})

    assert response.status_code == 404
    fresh = EnhancedImage.objects.get(pk=image.pk)
    assert (fresh.name, fresh.description, fresh.is_public) == ("Sunset", None, False)
    assert storage.list_keys(storage.image_prefix(image_id=image.pk)) == (keys_before)


@pytest.mark.parametrize(("method", "name", "data"), ACTIONS)
def test_anonymous_is_sent_to_login_for_every_page_and_action(
    anon_client, image, method, name, data
):
    response = getattr(anon_client, method)(url(name, image), data or {})

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert EnhancedImage.objects.filter(pk=image.pk, name="Sunset", is_public=False).exists()


def test_an_unknown_image_is_404(owner_client):
    assert owner_client.get(reverse("images:detail", args=[new_id()])).status_code == 404


@pytest.mark.parametrize(
    ("name", "data"), [("edit", {"name": "New"}), ("publish", {"is_public": "on"}), ("delete", {})]
)
def test_every_form_needs_a_csrf_token(user, image, name, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(url(name, image), data)

    assert response.status_code == 403
    fresh = EnhancedImage.objects.get(pk=image.pk)
    assert (fresh.name, fresh.is_public) == ("Sunset", False)


def test_the_pages_forms_carry_a_csrf_token(owner_client, image):
    html = owner_client.get(url("detail", image)).content.decode()
    assert html.count('name="csrfmiddlewaretoken"') >= 2  # publish and edit
    html = owner_client.get(url("delete", image)).content.decode()
    assert 'name="csrfmiddlewaretoken"' in html


def test_get_only_pages_refuse_other_methods(owner_client, image):
    assert owner_client.post(url("detail", image)).status_code == 405
    assert owner_client.post(url("download_original", image)).status_code == 405
    assert owner_client.get(url("edit", image)).status_code == 405
    assert owner_client.get(url("publish", image)).status_code == 405


# --- the page -----------------------------------------------------------------------------------
def test_the_owner_sees_preview_details_and_actions(owner_client, image):
    response = owner_client.get(url("detail", image))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Sunset" in html
    assert image.preview_r2_key.name in media_keys(html)
    assert f"{image.original_width} × {image.original_height} px" in html
    assert "JPEG" in html
    assert url("download_original", image) in html
    assert url("delete", image) in html
    assert url("publish", image) in html
    assert url("edit", image) in html
    # Pages show derivatives only: no link to the original object itself.
    assert image.original_r2_key.name not in media_keys(html)
    assert response.context["image"] == image  # the jobs panel gets the image


def test_the_preview_link_serves_the_webp_derivative(owner_client, image):
    response = owner_client.get(storage.url_for(image.preview_r2_key.name))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert b"".join(response.streaming_content)[8:12] == b"WEBP"


def test_rename_and_describe(owner_client, image):
    response = owner_client.post(
        url("edit", image), {"name": "  Beach at dusk ", "description": "Taken in Cornwall."}
    )

    assert response.status_code == 302 and response["Location"] == url("detail", image)
    image.refresh_from_db()
    assert (image.name, image.description) == ("Beach at dusk", "Taken in Cornwall.")


def test_a_blank_name_is_refused_with_a_message(owner_client, image):
    response = owner_client.post(url("edit", image), {"name": "   ", "description": ""})

    assert response.status_code == 400
    assert "Give the image a name" in response.content.decode()
    image.refresh_from_db()
    assert image.name == "Sunset"


def test_a_too_long_name_is_refused(owner_client, image):
    response = owner_client.post(url("edit", image), {"name": "x" * 256})
    assert response.status_code == 400
    image.refresh_from_db()
    assert image.name == "Sunset"


def test_publish_and_unpublish(owner_client, image):
    response = owner_client.post(url("publish", image), {"is_public": "on"})
    assert response.status_code == 302
    image.refresh_from_db()
    assert image.is_public is True
    assert "Make private" in owner_client.get(url("detail", image)).content.decode()

    owner_client.post(url("publish", image), {})
    image.refresh_from_db()
    assert image.is_public is False


# --- download -----------------------------------------------------------------------------------
def test_download_redirects_the_owner_to_a_signed_url_of_the_original(owner_client, image):
    response = owner_client.get(url("download_original", image))

    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    file_response = owner_client.get(response["Location"])
    assert file_response.status_code == 200
    assert b"".join(file_response.streaming_content) == storage.read_bytes(
        image.original_r2_key.name
    )
    assert file_response["Content-Disposition"].startswith('attachment; filename="Sunset.jpg"')


def test_a_signed_file_url_works_only_as_issued(anon_client, image):
    signed = storage.url_for(image.original_r2_key.name)
    assert signed.endswith("/")
    tampered = signed[:-4] + ("AAA" if not signed.endswith("AAA/") else "BBB") + "/"
    assert anon_client.get(signed).status_code == 200  # whoever was given the link
    assert anon_client.get(tampered).status_code == 404
    assert anon_client.get("/media/" + image.original_r2_key.name).status_code == 404


def test_the_download_name_keeps_one_extension():
    image = EnhancedImage(name="holiday.JPG", original_r2_key="users/u/images/i/original.jpg")
    from enhancement.images.presenters import download_name

    assert download_name(image) == "holiday.JPG"
    image.name = "holiday"
    assert download_name(image) == "holiday.jpg"


# --- delete -------------------------------------------------------------------------------------
def test_delete_asks_first(owner_client, image):
    response = owner_client.get(url("delete", image))
    assert response.status_code == 200
    assert "cannot be undone" in response.content.decode()
    assert EnhancedImage.objects.filter(pk=image.pk).exists()


def test_delete_removes_the_row_its_jobs_and_every_stored_object(
    owner_client, user, image, django_capture_on_commit_callbacks
):
    other = stored_image(user, name="Keep me")
    job = ImageEnhancementJobFactory(image=image, status=JobStatus.COMPLETED)
    job_keys = {"image_id": image.pk, "job_id": job.pk}
    storage.save_bytes(storage.job_result_key(**job_keys, extension="jpg"), b"enhanced")
    storage.save_bytes(storage.job_preview_key(**job_keys), b"preview")
    prefix = storage.image_prefix(image_id=image.pk)
    assert len(storage.list_keys(prefix)) == 5

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url("delete", image))

    assert response.status_code == 302 and response["Location"] == reverse("images:library")
    assert not EnhancedImage.objects.filter(pk=image.pk).exists()
    assert not ImageEnhancementJob.objects.filter(pk=job.pk).exists()
    assert storage.list_keys(prefix) == []
    assert len(storage.list_keys(storage.image_prefix(image_id=other.pk))) == 3


def test_deleting_an_account_deletes_the_stored_objects_of_its_images(
    user, image, other_user, django_capture_on_commit_callbacks
):
    keep = stored_image(other_user, name="Bob's")
    job = ImageEnhancementJobFactory(image=image, status=JobStatus.COMPLETED)
    storage.save_bytes(
        storage.job_result_key(image_id=image.pk, job_id=job.pk, extension="jpg"),
        b"enhanced",
    )
    mine = [storage.image_prefix(image_id=image.pk)]
    assert sum(len(storage.list_keys(p)) for p in mine) == 4

    with django_capture_on_commit_callbacks(execute=True):
        user.delete()  # e.g. from the admin: the images go by cascade

    assert sum(len(storage.list_keys(p)) for p in mine) == 0
    assert len(storage.list_keys(storage.image_prefix(image_id=keep.pk))) == 3


@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.FAILED])
def test_an_image_being_enhanced_is_not_deleted(
    owner_client, user, image, status, django_capture_on_commit_callbacks
):
    ImageEnhancementJobFactory(image=image, status=status)
    prefix = storage.image_prefix(image_id=image.pk)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = owner_client.post(url("delete", image))

    assert response.status_code == 409
    assert "Wait for the enhancement to finish or cancel it" in response.content.decode()
    assert callbacks == []
    assert EnhancedImage.objects.filter(pk=image.pk).exists()
    assert len(storage.list_keys(prefix)) == 3


def test_a_rolled_back_delete_keeps_the_files(user, image, django_capture_on_commit_callbacks):
    from django.db import transaction

    prefix = storage.image_prefix(image_id=image.pk)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        try:
            with transaction.atomic():
                services.delete_image(image=image)
                raise RuntimeError("something later in the same transaction failed")
        except RuntimeError:
            pass

    assert callbacks == []  # the storage delete was never scheduled
    assert EnhancedImage.objects.filter(pk=image.pk).exists()
    assert len(storage.list_keys(prefix)) == 3


# --- view count ---------------------------------------------------------------------------------
def test_a_view_of_a_public_image_by_someone_else_counts_once(image, other_user):
    from django.contrib.auth.models import AnonymousUser

    services.set_public(image=image, is_public=True)

    assert services.record_view(image=image, viewer=other_user) is True
    assert services.record_view(image=image, viewer=AnonymousUser()) is True
    image.refresh_from_db()
    assert image.view_count == 2


def test_the_owners_views_and_private_images_do_not_count(owner_client, image, other_user):
    owner_client.get(url("detail", image))
    assert services.record_view(image=image, viewer=image.user) is False
    assert services.record_view(image=image, viewer=other_user) is False  # private
    services.set_public(image=image, is_public=True)
    owner_client.get(url("detail", image))
    image.refresh_from_db()
    assert image.view_count == 0


def test_a_published_image_is_shown_read_only_to_others_and_each_view_counts(
    stranger_client, anon_client, image
):
    services.set_public(image=image, is_public=True)

    for client in (stranger_client, anon_client):
        response = client.get(url("detail", image))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Sunset" in html
        assert storage.url_for(image.preview_r2_key.name).split("/")[3][:20] in html
        # read-only: none of the owner's actions, never the original
        for action in ("edit", "publish", "delete", "download_original"):
            assert url(action, image) not in html
    image.refresh_from_db()
    assert image.view_count == 2


def test_an_unpublished_image_stays_hidden_from_others(stranger_client, anon_client, image):
    assert stranger_client.get(url("detail", image)).status_code == 404
    response = anon_client.get(url("detail", image))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # the same answers as for an id that does not exist
    assert stranger_client.get(reverse("images:detail", args=[new_id()])).status_code == 404
    image.refresh_from_db()
    assert image.view_count == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_views_are_all_counted():
    owner = UserFactory(email="owner@example.com")
    image = EnhancedImageFactory(user=owner, is_public=True)
    viewers = [UserFactory(email=f"viewer{i}@example.com") for i in range(8)]
    start = threading.Barrier(len(viewers))
    errors = []

    def view(viewer):
        try:
            start.wait()
            for _ in range(5):
                services.record_view(image=image, viewer=viewer)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=view, args=(v,)) for v in viewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    image.refresh_from_db()
    assert image.view_count == 8 * 5


# --- receiving files ----------------------------------------------------------------------------
def test_the_size_limit_handler_keeps_no_bytes_past_the_limit():
    """A file over the limit arrives as a stand-in with its size and no content."""
    from django.core.files.uploadhandler import MemoryFileUploadHandler

    big = images.jpeg_bytes(300, 300, quality=95)
    small = images.jpeg_bytes(8, 8)
    request = RequestFactory().post(
        "/images/upload/",
        {"files": [SimpleUploadedFile("big.jpg", big), SimpleUploadedFile("small.jpg", small)]},
    )
    request.upload_handlers = [
        forms.SizeLimitUploadHandler(request, max_bytes=4096),
        MemoryFileUploadHandler(request),
    ]

    big_file, small_file = request.FILES.getlist("files")

    assert isinstance(big_file, forms.OversizeUploadedFile)
    assert big_file.size > 4096 and big_file.read() == b""
    assert small_file.read() == small


# --- the back office ----------------------------------------------------------------------------
@pytest.fixture
def admin_client_(db):
    admin = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


def test_the_admin_lists_images_with_thumbnails_search_and_filters(
    admin_client_, image, other_user
):
    EnhancedImageFactory(user=other_user, name="Bob's photo", is_public=True)
    changelist = reverse("admin:enhancement_enhancedimage_changelist")

    response = admin_client_.get(changelist)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sunset" in html and "Bob&#x27;s photo" in html
    assert image.thumbnail_r2_key.name in media_keys(html)

    found = admin_client_.get(changelist, {"q": "alice@example.com"}).content.decode()
    assert "Sunset" in found and "Bob&#x27;s photo" not in found
    public = admin_client_.get(changelist, {"is_public__exact": "1"}).content.decode()
    assert "Bob&#x27;s photo" in public and "Sunset" not in public


def test_the_admin_change_page_shows_a_preview_and_read_only_audit_fields(admin_client_, image):
    response = admin_client_.get(reverse("admin:enhancement_enhancedimage_change", args=[image.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert image.preview_r2_key.name in media_keys(html)
    assert 'name="original_r2_key"' not in html  # shown, not editable
    assert 'name="view_count"' not in html
    assert 'name="name"' in html


def test_deleting_in_the_admin_removes_the_stored_objects(
    admin_client_, user, image, django_capture_on_commit_callbacks
):
    prefix = storage.image_prefix(image_id=image.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            reverse("admin:enhancement_enhancedimage_delete", args=[image.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not EnhancedImage.objects.filter(pk=image.pk).exists()
    assert storage.list_keys(prefix) == []


def test_the_admin_cannot_delete_an_image_being_enhanced(admin_client_, image):
    ImageEnhancementJobFactory(image=image, status=JobStatus.PROCESSING)
    response = admin_client_.post(
        reverse("admin:enhancement_enhancedimage_delete", args=[image.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert EnhancedImage.objects.filter(pk=image.pk).exists()
