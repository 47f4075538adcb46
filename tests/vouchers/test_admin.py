"""The vouchers back office: create, generate a batch, export as CSV, deactivate, see who
redeemed what."""

import csv
import io

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from tests.factories import UserFactory, VoucherFactory
from vouchers import services
from vouchers.models import Voucher, VoucherStatus, VoucherType

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/vouchers/voucher/"
GENERATE = "/admin/vouchers/voucher/generate/"


@pytest.fixture
def admin_client(client):
    boss = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    client.force_login(boss)
    client.boss = boss
    return client


def test_the_changelist_links_to_batch_generation(admin_client):
    body = admin_client.get(CHANGELIST).content.decode()
    assert GENERATE in body and "Generate a batch of codes" in body


def test_a_batch_is_generated_in_one_step(admin_client):
    response = admin_client.post(
        GENERATE,
        {
            "count": "25",
            "prefix": "sum-mer",
            "length": "8",
            "type": VoucherType.PERCENTAGE_BONUS,
            "value": "20",
            "max_uses": "1",
            "expires_at": "2099-01-01 12:00",
        },
    )

    assert response.status_code == 302
    made = Voucher.objects.all()
    assert made.count() == 25
    assert {(v.type, v.value, v.max_uses, v.expires_at.year) for v in made} == {
        (VoucherType.PERCENTAGE_BONUS, 20, 1, 2099)
    }
    assert all(v.code.startswith("SUMMER") and len(v.code) == 14 for v in made)
    batch = made[0].metadata["batch"]
    assert response["Location"].endswith(f"?metadata__batch={batch}")
    listed = admin_client.get(response["Location"])
    assert listed.status_code == 200 and "25 voucher codes generated" in listed.content.decode()
    assert LogEntry.objects.filter(user=admin_client.boss).count() == 25


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("count", "0", "greater than or equal to 1"),
        ("prefix", "NO!", "Letters A-Z and digits only."),
        ("value", "150", "A percentage bonus is at most 100."),
        ("expires_at", "2001-01-01 00:00", "The expiry must be in the future."),
    ],
)
def test_a_bad_batch_is_refused_with_its_message(admin_client, field, value, message):
    data = {
        "count": "5",
        "prefix": "X",
        "length": "8",
        "type": VoucherType.PERCENTAGE_BONUS,
        "value": "10",
        "max_uses": "",
        "expires_at": "",
        field: value,
    }
    response = admin_client.post(GENERATE, data)

    assert response.status_code == 200 and message in response.content.decode()
    assert not Voucher.objects.exists()


def test_a_voucher_made_by_hand_gets_its_code_normalised(admin_client):
    response = admin_client.post(
        "/admin/vouchers/voucher/add/",
        {
            "code": "launch-2026 a",
            "type": VoucherType.FIXED_TOKENS,
            "value": "10",
            "status": VoucherStatus.ACTIVE,
            "max_uses": "",
            "expires_at_0": "",
            "expires_at_1": "",
            "metadata": "null",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Voucher.objects.get().code == "LAUNCH2026A"

    clash = admin_client.post(
        "/admin/vouchers/voucher/add/",
        {
            "code": "Launch 2026-A",
            "type": VoucherType.FIXED_TOKENS,
            "value": "10",
            "status": VoucherStatus.ACTIVE,
            "metadata": "null",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert clash.status_code == 200 and "Another voucher has this code." in clash.content.decode()


def test_export_lists_codes_and_their_redemptions(admin_client, user, other_user):
    used = VoucherFactory(code="USED", value=7)
    unused = VoucherFactory(code="UNUSED")
    services.redeem(user=user, code="USED")
    services.redeem(user=other_user, code="USED")
    evil = UserFactory(email="=cmd@example.com")
    services.redeem(user=evil, code="USED")

    response = admin_client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": [used.pk, unused.pk]}
    )

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["code"], r["redeemed_by"], r["tokens_granted"]) for r in rows] == [
        ("UNUSED", "", ""),
        ("USED", "alice@example.com", "7"),
        ("USED", "bob@example.com", "7"),
        ("USED", "'=cmd@example.com", "7"),  # never a formula in a spreadsheet
    ]


def test_deactivate_stops_redemptions_and_is_logged(admin_client, user):
    voucher = VoucherFactory(code="STOPME")
    expired = VoucherFactory(code="GONE", status=VoucherStatus.EXPIRED)

    response = admin_client.post(
        CHANGELIST,
        {"action": "deactivate", "_selected_action": [voucher.pk, expired.pk]},
        follow=True,
    )

    assert "1 voucher deactivated." in response.content.decode()
    voucher.refresh_from_db()
    expired.refresh_from_db()
    assert (voucher.status, expired.status) == (VoucherStatus.INACTIVE, VoucherStatus.EXPIRED)
    assert LogEntry.objects.get(object_id=voucher.pk).change_message == "Deactivated"
    with pytest.raises(services.VoucherInactive):
        services.redeem(user=user, code="STOPME")


def test_a_voucher_page_shows_who_redeemed_it_and_the_tokens(admin_client, user):
    voucher = VoucherFactory(code="SEEN", value=9)
    services.redeem(user=user, code="SEEN")

    body = admin_client.get(reverse("admin:vouchers_voucher_change", args=[voucher.pk])).content
    text = body.decode()
    assert "alice@example.com" in text and ">9<" in text.replace(" ", "")


def test_staff_without_the_add_permission_cannot_generate(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(GENERATE).status_code == 403
