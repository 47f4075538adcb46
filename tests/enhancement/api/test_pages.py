"""The account's API pages: keys (made, shown once, revoked), webhooks (added, deleted, a
redelivery), the account page's API section, the reference page; owner, stranger, anonymous."""

import pytest
from django.urls import reverse

from enhancement.api import services
from enhancement.models import ApiKey, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.enhancement.api.conftest import give_api_access
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_owner(owner_client, user):
    give_api_access(user)
    return owner_client


def test_a_key_is_shown_once_then_only_its_prefix(api_owner, user):
    response = api_owner.post(reverse("api:keys"), {"name": "Shop backend"})
    assert response.status_code == 200
    key = ApiKey.objects.get(user=user)
    page = response.content.decode()
    raw = page.split('<code class="secret">', 1)[1].split("<", 1)[0]
    assert raw.startswith(key.prefix) and services.hash_key(raw) == key.key_hash
    assert response["Cache-Control"] == "no-store"
    again = api_owner.get(reverse("api:keys")).content.decode()
    assert key.prefix in again and raw not in again


def test_revoke_from_the_page(api_owner, user):
    key = services.create_api_key(user=user, name="old").key
    response = api_owner.post(reverse("api:key_revoke", args=[key.pk]))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_a_stranger_cannot_revoke_or_delete_or_redeliver(api_owner, user, client):
    key = services.create_api_key(user=user, name="mine").key
    endpoint = services.create_endpoint(user=user, url="https://example.com/hook")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="job.completed",
        job_id="a" * 25,
        payload={},
        status=DeliveryStatus.FAILED,
        give_up_at="2000-01-01T00:00Z",
    )
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.post(reverse("api:key_revoke", args=[key.pk])).status_code == 404
    assert client.post(reverse("api:webhook_delete", args=[endpoint.pk])).status_code == 404
    assert client.post(reverse("api:redeliver", args=[delivery.pk])).status_code == 404
    key.refresh_from_db()
    delivery.refresh_from_db()
    assert key.revoked_at is None and delivery.status == DeliveryStatus.FAILED
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_anonymous_visitors_are_sent_to_log_in(anon_client):
    for name in ("api:keys", "api:webhooks"):
        response = anon_client.get(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"]


def test_without_api_access_no_key_can_be_made(owner_client, user):
    response = owner_client.post(reverse("api:keys"), {"name": "x"})
    assert response.status_code == 403
    assert "does not include API access" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_webhook_endpoints_public_hosts_only(api_owner, user):
    for url in (
        "http://127.0.0.1/hook",
        "http://localhost:8000/",
        "ftp://example.com/",
        "http://10.0.0.1/",
        "http://[::1]/",
    ):
        response = api_owner.post(reverse("api:webhooks"), {"url": url})
        assert response.status_code == 400, url
    assert not WebhookEndpoint.objects.exists()
    response = api_owner.post(reverse("api:webhooks"), {"url": "https://example.com/hook"})
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get(user=user)
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in api_owner.get(reverse("api:webhooks")).content.decode()


def test_redeliver_button_makes_a_failed_delivery_due_again(api_owner, user):
    endpoint = services.create_endpoint(user=user, url="https://example.com/hook")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="job.completed",
        job_id="a" * 25,
        payload={"id": "evt"},
        status=DeliveryStatus.FAILED,
        attempts=9,
        give_up_at="2000-01-01T00:00Z",
    )
    page = api_owner.get(reverse("api:webhooks")).content.decode()
    assert reverse("api:redeliver", args=[delivery.pk]) in page
    assert api_owner.post(reverse("api:redeliver", args=[delivery.pk])).status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at is not None


def test_the_account_page_links_the_api_only_with_access(owner_client, user):
    page = owner_client.get(reverse("accounts:profile")).content.decode()
    assert reverse("api:keys") not in page
    give_api_access(user)
    page = owner_client.get(reverse("accounts:profile")).content.decode()
    assert reverse("api:keys") in page and reverse("api:webhooks") in page


def test_the_reference_page_lists_every_operation(anon_client):
    page = anon_client.get(reverse("api:reference")).content.decode()
    for text in (
        "GET /api/v1/me",
        "POST /api/v1/images/{image_id}/enhancements",
        "Idempotency-Key",
    ):
        assert text in page
    assert "<script" not in page.split("</header>", 1)[-1].split("<footer", 1)[0]


def test_the_openapi_document_is_public(anon_client):
    schema = anon_client.get("/api/v1/openapi.json").json()
    assert "/api/v1/jobs/{job_id}/result" in schema["paths"]


def test_the_admin_lists_keys_endpoints_and_deliveries(admin_client, api_user):
    services.create_api_key(user=api_user, name="Shop")
    services.create_endpoint(user=api_user, url="https://example.com/hook")
    for model in ("apikey", "webhookendpoint", "webhookdelivery"):
        response = admin_client.get(reverse(f"admin:enhancement_{model}_changelist"))
        assert response.status_code == 200, model


def test_every_problem_type_has_its_line_on_the_reference_page(anon_client):
    import re
    from pathlib import Path

    page = anon_client.get(reverse("api:reference")).content.decode()
    source = Path("enhancement/api/api.py").read_text()
    kinds = set(re.findall(r'kind="([a-z-]+)"', source)) | {"not-stored", "image-refused"}
    assert len(kinds) > 10
    for kind in kinds:
        assert f'id="problem-{kind}"' in page, kind
