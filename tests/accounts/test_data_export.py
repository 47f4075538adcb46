"""The "Download my data" export: what the zip holds (and does not), the worker, the signed
link (owner, stranger, anonymous, tampered, expired), the e-mail, one export at a time, the
daily limit, the sweep, and files that follow their rows."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from accounts.exports import builder, files, sections, services, tasks
from accounts.models import DataExport, DataExportStatus
from albums.models import AlbumPrivacy
from enhancement import storage
from enhancement.models import JobStatus
from tests import images
from tests.factories import (
    AlbumFactory,
    AlbumImageFactory,
    ApiKeyFactory,
    AppFactory,
    DataExportFactory,
    ImageEnhancementJobFactory,
    MonetizationModelFactory,
    RequirementFactory,
    StripePaymentFactory,
    SubscriptionFactory,
    VoucherFactory,
    VoucherRedemptionFactory,
    WebhookEndpointFactory,
    fund,
    stored_image,
)

pytestmark = pytest.mark.django_db

START = reverse("accounts:data_export_start")
STATUS = reverse("accounts:data_export_status")


def result_bytes(seed: int) -> bytes:
    return images.jpeg_bytes(80, 60, quality=50 + seed)  # a different file per seed


def completed_job(image, *, tier="TIER_2K", seed=1):
    job = ImageEnhancementJobFactory(image=image, status=JobStatus.COMPLETED, tier=tier)
    storage.save_bytes(job.enhanced_r2_key.name, result_bytes(seed))
    job.enhanced_width, job.enhanced_height, job.enhanced_format = 80, 60, "jpeg"
    job.save()
    return job


@pytest.fixture
def rich_user(user):
    """Alice with something of everything: photos (one with two results), jobs in every
    state, a shared album and a private one, tokens, a payment, a subscription, a voucher, an
    app, an API key and a webhook."""
    beach = stored_image(user, name="Beach.jpg")
    dog = stored_image(user, name="../../etc/Dog: the best?.png", data=images.png_bytes(40, 30))
    completed_job(beach, tier="TIER_1K", seed=1)
    completed_job(beach, tier="TIER_4K", seed=2)
    for status in (JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.FAILED):
        ImageEnhancementJobFactory(image=dog, status=status)
    ImageEnhancementJobFactory(image=dog, status=JobStatus.REFUNDED, error_message="Cancelled.")
    shared = AlbumFactory(
        user=user, name="Holidays", privacy=AlbumPrivacy.UNLISTED, allow_download=True
    )
    shared.share_password = "pbkdf2_sha256$secret-hash"
    shared.save()
    AlbumImageFactory(album=shared, image=dog, sort_order=1)
    AlbumImageFactory(album=shared, image=beach, sort_order=2)
    AlbumFactory(user=user, name="Private")
    fund(user, 25)
    StripePaymentFactory(user=user, receipt_url="https://pay.example.com/receipt/1")
    SubscriptionFactory(user=user, stripe_subscription_id="sub_alice")
    VoucherRedemptionFactory(user=user, voucher=VoucherFactory(code="SPRING2026"))
    app = AppFactory(user=user, name="Recipe box")
    RequirementFactory(app=app, description="Search by ingredient")
    MonetizationModelFactory(app=app)
    ApiKeyFactory(user=user, name="Laptop", key_hash="f" * 64)
    WebhookEndpointFactory(user=user, secret="whsec_alice_secret")
    return user


@pytest.fixture
def bobs_things(other_user):
    """Bob's data, which must never reach Alice's export."""
    image = stored_image(
        other_user, name="Bob secret plan.jpg", data=images.jpeg_bytes(72, 52, quality=77)
    )
    completed_job(image, seed=9)
    AlbumFactory(user=other_user, name="Bob album", privacy=AlbumPrivacy.PUBLIC)
    StripePaymentFactory(user=other_user, stripe_payment_intent_id="pi_bob")
    VoucherRedemptionFactory(user=other_user, voucher=VoucherFactory(code="BOBCODE"))
    AppFactory(user=other_user, name="Bob app")
    return other_user


def build(user) -> DataExport:
    """Ask for an export and run its task as the worker would (after the commit)."""
    export = services.request_export(user=user)
    assert tasks.build_data_export(export.pk) == "ready"
    export.refresh_from_db()
    return export


def open_zip(export: DataExport) -> zipfile.ZipFile:
    with files.open_file(export.storage_key) as fh:
        return zipfile.ZipFile(io.BytesIO(fh.read()))


def read_json(archive: zipfile.ZipFile, name: str):
    root = archive.namelist()[0].split("/")[0]
    return json.loads(archive.read(f"{root}/{name}"))


# --- what is in the zip -----------------------------------------------------------------------
def test_the_zip_holds_every_original_result_and_record_of_the_user(rich_user, bobs_things):
    export = build(rich_user)

    assert export.status == DataExportStatus.READY
    assert export.storage_key.startswith(f"exports/{export.pk}/")
    assert export.storage_key.endswith(".zip")
    archive = open_zip(export)
    assert archive.testzip() is None
    names = archive.namelist()
    root = names[0].split("/")[0]
    assert re.fullmatch(r"lumen-export-\d{4}-\d{2}-\d{2}", root)
    assert all(name.startswith(root + "/") for name in names)
    inside = {name[len(root) + 1 :] for name in names}
    for expected in (
        "README.txt",
        "index.html",
        "account.json",
        "images.json",
        "jobs.json",
        "albums.json",
        "tokens.json",
        "ledger.json",
        "payments.json",
        "subscription.json",
        "voucher_redemptions.json",
        "apps.json",
        "api_keys.json",
        "webhooks.json",
    ):
        assert expected in inside

    # every original, byte for byte as stored; names safe to unpack
    image_rows = read_json(archive, "images.json")
    assert len(image_rows) == 2
    for row in image_rows:
        path = row["original_file"]
        assert path.startswith("originals/") and ".." not in path and path.count("/") == 1
        image = rich_user.enhanced_images.get(pk=row["id"])
        assert archive.read(f"{root}/{path}") == storage.read_bytes(image.original_r2_key.name)
    assert {row["name"] for row in image_rows} == {"Beach.jpg", "../../etc/Dog: the best?.png"}

    # every job in every state; the two results, as stored
    job_rows = read_json(archive, "jobs.json")
    assert sorted(row["status"] for row in job_rows) == sorted(
        ["COMPLETED", "COMPLETED", "PENDING", "PROCESSING", "FAILED", "REFUNDED"]
    )
    results = [row for row in job_rows if row["result_file"]]
    assert len(results) == 2
    for row in results:
        job = rich_user.enhancement_jobs.get(pk=row["id"])
        assert row["result_file"].startswith("enhanced/")
        assert archive.read(f"{root}/{row['result_file']}") == storage.read_bytes(
            job.enhanced_r2_key.name
        )
    assert {row["tier"] for row in results} == {"1K", "4K"}

    albums = {row["name"]: row for row in read_json(archive, "albums.json")}
    holidays = albums["Holidays"]
    assert holidays["privacy"] == "UNLISTED"
    assert holidays["share"]["link"].endswith(
        f"/s/{rich_user.albums.get(name='Holidays').share_token}/"
    )
    assert holidays["share"]["password_protected"] is True
    assert holidays["share"]["visitors_may_download"] is True
    assert [item["position"] for item in holidays["images"]] == [1, 2]
    assert albums["Private"]["share"] is None and albums["Private"]["in_gallery"] is False

    assert read_json(archive, "tokens.json")["balance"] == 25
    ledger = read_json(archive, "ledger.json")
    assert [row["amount"] for row in ledger] == [25]
    assert ledger[0]["balance_after"] == 25
    payments = read_json(archive, "payments.json")
    assert len(payments) == 1 and payments[0]["receipt_url"].endswith("/receipt/1")
    assert read_json(archive, "subscription.json")["stripe_subscription_id"] == "sub_alice"
    assert [r["code"] for r in read_json(archive, "voucher_redemptions.json")] == ["SPRING2026"]
    apps = read_json(archive, "apps.json")
    assert apps[0]["name"] == "Recipe box"
    assert apps[0]["requirements"][0]["description"] == "Search by ingredient"
    assert apps[0]["pricing"][0]["type"] == "FREE"
    account = read_json(archive, "account.json")
    assert account["email"] == "alice@example.com" and account["id"] == rich_user.pk
    assert [k["name"] for k in read_json(archive, "api_keys.json")] == ["Laptop"]
    assert read_json(archive, "webhooks.json")[0]["url"] == "https://hooks.example.com/lumen"
    assert "originals/" in archive.read(f"{root}/README.txt").decode()


def test_index_html_shows_each_photo_and_links_files_that_are_in_the_zip(rich_user):
    from html.parser import HTMLParser
    from urllib.parse import unquote

    stored_image(rich_user, name='<script>alert("x")</script>.jpg')
    archive = open_zip(build(rich_user))
    root = archive.namelist()[0].split("/")[0]
    page = archive.read(f"{root}/index.html").decode()

    class Links(HTMLParser):
        found: list[str] = []

        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if name in ("href", "src"):
                    self.found.append(value)

    parser = Links()
    parser.feed(page)
    assert parser.found
    for link in parser.found:
        assert f"{root}/{unquote(link)}" in archive.namelist(), link
    originals = {unquote(link) for link in parser.found if link.startswith("originals/")}
    assert len(originals) == 3
    assert len([link for link in parser.found if link.startswith("enhanced/")]) == 2
    # the user's own text is escaped, never markup
    assert "../../etc/Dog: the best?.png" in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;.jpg" in page
    assert "<script" not in page


def test_the_zip_holds_nothing_of_anyone_else_and_no_secret(rich_user, bobs_things):
    archive = open_zip(build(rich_user))

    everything = b"".join(archive.read(name) for name in archive.namelist())
    names = " ".join(archive.namelist())
    for bobs in (
        bobs_things.email,
        bobs_things.pk,
        "Bob secret plan",
        "Bob album",
        "pi_bob",
        "BOBCODE",
        "Bob app",
    ):
        assert bobs.encode() not in everything and bobs not in names
    bob_image = bobs_things.enhanced_images.get()
    assert storage.read_bytes(bob_image.original_r2_key.name) not in everything
    for secret in (
        "f" * 64,  # the API key's hash
        "whsec_alice_secret",  # the webhook's signing secret
        "secret-hash",  # the album link's password hash
        rich_user.password,  # the account's password hash
        "X-Amz-Signature",
        "/media/f/",  # no signed URL of any kind
    ):
        assert secret.encode() not in everything


def test_a_missing_stored_original_is_left_out_not_fatal(user):
    image = stored_image(user)
    storage.get_storage().delete(image.original_r2_key.name)

    archive = open_zip(build(user))

    rows = read_json(archive, "images.json")
    assert rows[0]["id"] == image.pk and rows[0]["original_file"] is None
    assert not [n for n in archive.namelist() if "/originals/" in n]


def test_an_account_with_nothing_gets_a_valid_zip_of_empty_lists(user):
    archive = open_zip(build(user))

    assert read_json(archive, "images.json") == []
    assert read_json(archive, "jobs.json") == []
    assert read_json(archive, "subscription.json") is None


def test_every_app_registers_its_section():
    assert {s.name for s in sections.all_sections()} >= {
        "account",
        "enhancement",
        "albums",
        "tokens",
        "billing",
        "vouchers",
        "platform_apps",
    }


# --- the worker -------------------------------------------------------------------------------
def test_asking_enqueues_the_build_which_runs_through_the_queue(
    owner_client, user, monkeypatch, django_capture_on_commit_callbacks
):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    stored_image(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(START)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile") + "#data-export"
    export = DataExport.objects.get(user=user)
    assert export.status == DataExportStatus.READY
    assert files.exists(export.storage_key)


def test_a_task_run_twice_builds_once(user):
    export = services.request_export(user=user)
    assert tasks.build_data_export(export.pk) == "ready"
    assert tasks.build_data_export(export.pk) == "skipped"
    assert files.list_keys() == [DataExport.objects.get().storage_key]


def test_a_row_deleted_while_its_zip_is_built_leaves_no_file(user, monkeypatch):
    """The account (and so the export row) goes while the worker writes: the worker does not
    crash, and deletes the zip it had just stored."""
    export = services.request_export(user=user)
    real_save = files.save

    def save_then_row_goes(key, fileobj):
        name = real_save(key, fileobj)
        DataExport.objects.filter(pk=export.pk).delete()
        return name

    monkeypatch.setattr(files, "save", save_then_row_goes)

    assert builder.build_export(export_id=export.pk) == "discarded"
    assert files.list_keys() == []
    assert not DataExport.objects.exists()


def test_a_section_that_fails_marks_the_export_failed_with_a_short_message(user):
    def broken(user, archive):
        raise RuntimeError("disk on fire")

    sections.register("zz_broken", broken)
    try:
        export = services.request_export(user=user)
        assert builder.build_export(export_id=export.pk) == "failed"
    finally:
        sections._registry.pop("zz_broken")
    export.refresh_from_db()
    assert export.status == DataExportStatus.FAILED
    assert export.error_message == builder.FAILED_MESSAGE
    assert "fire" not in export.error_message
    assert files.list_keys() == []


def test_a_new_export_replaces_the_earlier_one_and_its_file(
    user, django_capture_on_commit_callbacks
):
    first = build(user)
    with django_capture_on_commit_callbacks(execute=True):
        second = build(user)

    assert list(DataExport.objects.values_list("pk", flat=True)) == [second.pk]
    assert files.list_keys() == [second.storage_key]
    assert first.storage_key != second.storage_key


# --- files follow their rows ------------------------------------------------------------------
def test_deleting_the_user_deletes_their_export_file_after_the_commit(
    user, django_capture_on_commit_callbacks
):
    export = build(user)
    assert files.exists(export.storage_key)

    with django_capture_on_commit_callbacks(execute=True):
        user.delete()

    assert files.list_keys() == []


def test_a_queryset_delete_deletes_the_files_and_a_rollback_keeps_them(
    user, django_capture_on_commit_callbacks
):
    from django.db import transaction

    export = build(user)
    with pytest.raises(RuntimeError), transaction.atomic():
        DataExport.objects.filter(user=user).delete()
        raise RuntimeError("changed my mind")
    assert files.exists(export.storage_key)

    with django_capture_on_commit_callbacks(execute=True):
        DataExport.objects.filter(user=user).delete()
    assert files.list_keys() == []


# --- asking: one at a time, a few a day -------------------------------------------------------
def test_only_one_export_is_under_way_at_a_time(owner_client, user):
    owner_client.post(START)
    response = owner_client.post(START, follow=True)

    assert DataExport.objects.filter(user=user).count() == 1
    assert "already being prepared" in response.content.decode()
    with pytest.raises(services.ExportUnderWay):
        services.request_export(user=user)


def test_a_fourth_export_in_a_day_is_429_with_retry_after(owner_client, user):
    for _ in range(3):
        assert owner_client.post(START).status_code == 302
        DataExport.objects.filter(user=user).update(status=DataExportStatus.FAILED)

    response = owner_client.post(START)

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 24 * 60 * 60
    assert "3 exports of your data a day" in response.content.decode()
    assert DataExport.objects.filter(user=user).count() == 3


def test_starting_needs_a_signed_in_post(anon_client, owner_client):
    response = anon_client.post(START)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert owner_client.get(START).status_code == 405
    assert not DataExport.objects.exists()


# --- the card ---------------------------------------------------------------------------------
def test_the_status_fragment_polls_while_under_way_then_offers_the_download(owner_client, user):
    export = services.request_export(user=user)
    fragment = owner_client.get(STATUS, headers={"HX-Request": "true"}).content.decode()
    assert 'id="data-export"' in fragment and "Preparing your data" in fragment
    assert f'hx-get="{STATUS}"' in fragment
    assert "<form" not in fragment  # no second export while one is under way

    tasks.build_data_export(export.pk)
    fragment = owner_client.get(STATUS, headers={"HX-Request": "true"}).content.decode()
    assert "hx-get" not in fragment
    export.refresh_from_db()
    link = re.search(r'href="(/account/export/download/[^"]+)"', fragment).group(1)
    assert owner_client.get(link).status_code == 200
    assert "Prepare a new export" in fragment


def test_the_status_without_htmx_is_the_account_page(owner_client, anon_client):
    response = owner_client.get(STATUS)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile") + "#data-export"
    assert "/accounts/login/" in anon_client.get(STATUS)["Location"]


def test_the_card_renders_on_its_own_with_the_request_user(rf, user):
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = user
    html = render_to_string("accounts/_data_export.html", request=request)
    assert "Download my data" in html and "Prepare my data" in html


def test_the_card_shows_a_failure_and_an_expiry(owner_client, user):
    DataExportFactory(user=user, status=DataExportStatus.FAILED, error_message="Try again.")
    html = owner_client.get(STATUS, headers={"HX-Request": "true"}).content.decode()
    assert "Try again." in html and "Prepare a new export" in html

    DataExport.objects.all().delete()
    DataExportFactory(user=user, status=DataExportStatus.EXPIRED)
    html = owner_client.get(STATUS, headers={"HX-Request": "true"}).content.decode()
    assert "has expired" in html


# --- the link ---------------------------------------------------------------------------------
@pytest.fixture
def ready_export(user):
    stored_image(user)
    return build(user)


def link_of(export) -> str:
    return services.download_path(export)


def test_the_owner_downloads_the_zip(owner_client, ready_export):
    response = owner_client.get(link_of(ready_export))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".zip" in disposition
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(response.streaming_content)
    assert len(body) == ready_export.size_bytes
    assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None


def test_someone_else_with_the_link_gets_404(stranger_client, ready_export):
    assert stranger_client.get(link_of(ready_export)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(anon_client, ready_export):
    link = link_of(ready_export)
    response = anon_client.get(link)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token[:10],
        lambda token: "x" + token,
        lambda token: signing.dumps({"e": "a" * 25, "u": "b" * 25}, salt="another-salt"),
    ],
    ids=["last-character", "cut", "prefixed", "other-salt"],
)
def test_a_tampered_link_is_404(owner_client, ready_export, tamper):
    token = services.make_token(ready_export)
    url = reverse("accounts:data_export_download", args=[tamper(token)])
    assert owner_client.get(url).status_code == 404


def test_a_forged_link_is_404_for_an_anonymous_visitor_too(anon_client, ready_export):
    token = services.make_token(ready_export)
    url = reverse("accounts:data_export_download", args=[token[:-2] + "zz"])
    assert anon_client.get(url).status_code == 404


def test_a_link_to_another_users_export_signed_for_them_is_404(owner_client, other_user):
    theirs = DataExportFactory(user=other_user, ready=True)
    assert owner_client.get(link_of(theirs)).status_code == 404


def test_an_expired_link_is_410_and_offers_a_new_export(owner_client, ready_export, settings):
    link = link_of(ready_export)
    later = timezone.now() + timedelta(days=settings.DATA_EXPORT_LINK_DAYS, minutes=1)
    with time_machine.travel(later):
        response = owner_client.get(link)

    assert response.status_code == 410
    page = response.content.decode()
    assert "expired" in page and START in page


def test_an_expired_link_of_someone_else_is_still_404(stranger_client, ready_export, settings):
    link = link_of(ready_export)
    later = timezone.now() + timedelta(days=settings.DATA_EXPORT_LINK_DAYS, minutes=1)
    with time_machine.travel(later):
        assert stranger_client.get(link).status_code == 404


def test_a_swept_export_is_410_even_with_a_fresh_link(owner_client, ready_export):
    link = link_of(ready_export)
    DataExport.objects.filter(pk=ready_export.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    builder.expire_exports()
    assert owner_client.get(link).status_code == 410


def test_a_link_to_a_deleted_export_is_404(owner_client, ready_export):
    link = link_of(ready_export)
    ready_export.delete()
    assert owner_client.get(link).status_code == 404


# --- the e-mail -------------------------------------------------------------------------------
def test_the_owner_is_emailed_a_link_when_it_is_ready(
    user, owner_client, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://lumen.example"
    export = services.request_export(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.build_data_export(export.pk)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert "ready" in message.subject.lower()
    link = re.search(r"https://lumen\.example(/account/export/download/\S+/)", message.body)
    assert link, message.body
    html = message.alternatives[0][0]
    assert link.group(0) in html
    assert owner_client.get(link.group(1)).status_code == 200
    assert "signed in" in message.body


def test_no_email_for_a_failed_export(user, django_capture_on_commit_callbacks):
    def broken(user, archive):
        raise RuntimeError("nope")

    sections.register("zz_broken", broken)
    try:
        export = services.request_export(user=user)
        with django_capture_on_commit_callbacks(execute=True):
            tasks.build_data_export(export.pk)
    finally:
        sections._registry.pop("zz_broken")
    assert mail.outbox == []


# --- the sweep --------------------------------------------------------------------------------
def test_the_sweep_deletes_expired_zips_and_fails_stuck_exports(
    user, other_user, settings, django_capture_on_commit_callbacks
):
    expired = build(user)
    DataExport.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    fresh = build(other_user)
    stuck = DataExportFactory(status=DataExportStatus.RUNNING)
    DataExport.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.DATA_EXPORT_TIMEOUT * 3)
    )

    with django_capture_on_commit_callbacks(execute=True):
        out = io.StringIO()
        call_command("expire_data_exports", stdout=out)
    assert out.getvalue().strip() == "expire_data_exports: 1 expired, 1 stuck marked failed"

    expired.refresh_from_db()
    stuck.refresh_from_db()
    assert expired.status == DataExportStatus.EXPIRED and expired.storage_key == ""
    assert stuck.status == DataExportStatus.FAILED and stuck.error_message
    assert files.list_keys() == [fresh.storage_key]

    out = io.StringIO()
    call_command("expire_data_exports", stdout=out)  # again: nothing more
    assert out.getvalue().strip() == "expire_data_exports: 0 expired, 0 stuck marked failed"


def test_the_expiry_task_reports_what_it_did(user):
    assert tasks.expire_data_exports() == {"expired": 0, "stuck": 0}


def test_the_migration_schedules_the_sweep_once():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("accounts.migrations.0005_data_export_sweep_schedule")
    migration.create_schedule(apps, None)
    migration.create_schedule(apps, None)
    schedules = Schedule.objects.filter(name=migration.SCHEDULE_NAME)
    assert schedules.count() == 1
    assert schedules.get().func == "accounts.exports.tasks.expire_data_exports"
    assert schedules.get().schedule_type == Schedule.CRON


# --- the log ----------------------------------------------------------------------------------
def test_an_export_logs_its_events_with_ids_only(user, caplog, django_capture_on_commit_callbacks):
    import logging

    caplog.set_level(logging.INFO, logger="accounts")
    with django_capture_on_commit_callbacks(execute=True):
        export = services.request_export(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.build_data_export(export.pk)

    events = {r.getMessage(): r for r in caplog.records if r.name.startswith("accounts.")}
    assert {"export.requested", "export.ready"} <= set(events)
    ready = events["export.ready"]
    assert (ready.export_id, ready.user_id) == (export.pk, user.pk) and ready.size > 0
    assert not [r for r in caplog.records if "alice@example.com" in r.getMessage()]
