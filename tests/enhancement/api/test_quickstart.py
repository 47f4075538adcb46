"""The README's quick start, step by step through the HTTP client: a key from the account
page, upload, the tiers, an order (retried with its Idempotency-Key), the job until it is done
(the worker runs inline), the signed webhook at a loopback receiver, the download."""

import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests import images
from tests.enhancement.api.conftest import give_api_access
from tests.factories import fund, upload_file
from tests.fakes.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.django_db


def test_the_quick_start(
    owner_client, user, settings, sync_queue, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True  # the receiver is on loopback
    give_api_access(user)
    fund(user, 20)

    # the account page links the keys page; a key is made there and shown once
    assert reverse("api:keys") in owner_client.get(reverse("accounts:profile")).content.decode()
    page = owner_client.post(reverse("api:keys"), {"name": "quick start"}).content.decode()
    key = page.split('<code class="secret">', 1)[1].split("<", 1)[0]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    with WebhookReceiver() as receiver:
        assert owner_client.post(reverse("api:webhooks"), {"url": receiver.url}).status_code == 302
        receiver.secret = user.webhook_endpoints.get().secret

        image = api.post(
            "/api/v1/images", {"file": upload_file("beach.jpg", images.jpeg_bytes(120, 90))}
        ).json()
        tiers = {t["tier"]: t for t in api.get("/api/v1/tiers", {"image": image["id"]}).json()}
        assert (tiers["TIER_2K"]["width"], tiers["TIER_2K"]["height"]) == (2048, 1536)

        def place_order():
            return api.post(
                f"/api/v1/images/{image['id']}/enhancements",
                {"tier": "TIER_2K"},
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="3f1c2a9e-quick-start",
            )

        with django_capture_on_commit_callbacks(execute=True):  # the worker runs inline
            first = place_order()
        assert first.status_code == 201
        assert first["X-Tokens-Cost"] == str(tiers["TIER_2K"]["tokens_cost"])
        retry = place_order()
        assert retry.json()["id"] == first.json()["id"]
        assert retry["Idempotent-Replayed"] == "true"

        job = api.get(f"/api/v1/jobs/{first.json()['id']}").json()
        assert job["status"] == "COMPLETED"
        assert (job["result"]["width"], job["result"]["height"]) == (2048, 1536)

        assert len(receiver.received) == 1 and receiver.received[0]["valid"]
        event = json.loads(receiver.received[0]["body"])
        assert (event["type"], event["data"]["job"]["id"]) == ("job.completed", job["id"])

        download = api.get(f"/api/v1/jobs/{job['id']}/result", {"format": "png"})
        assert download.status_code == 200 and download.content.startswith(b"\x89PNG")
        stored = api.get(f"/api/v1/jobs/{job['id']}/result")
        assert stored.status_code == 302
        assert owner_client.get(stored["Location"]).status_code == 200

    me = api.get("/api/v1/me")
    assert me.json()["balance"] == 20 - tiers["TIER_2K"]["tokens_cost"]
    assert me["X-Tokens-Remaining"] == str(me.json()["balance"])
    call_command("check_ledger")
