"""The back office: balances and the ledger read-only, packages manageable."""

import pytest
from django.urls import reverse

from tests.factories import TokensPackageFactory, UserFactory
from tests.tokens.conftest import MINUTE, T0
from tokens import services
from tokens.models import TokensPackage, TokenTransaction, TokenTransactionType, UserTokenBalance

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, db):
    admin = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


@pytest.fixture
def ledger(clock):
    user = UserFactory(balance=30, email="carol@example.com")
    services.spend(user=user, amount=2, source="enhancement", source_id="job1")
    return user


def test_balances_list_filter_and_search(admin_client, ledger):
    url = reverse("admin:tokens_usertokenbalance_changelist")
    assert "carol@example.com" in admin_client.get(url, {"q": "carol"}).content.decode()
    assert "carol@example.com" in admin_client.get(url, {"level": "below"}).content.decode()
    assert "carol@example.com" not in admin_client.get(url, {"level": "cap"}).content.decode()


def test_a_balance_cannot_be_edited_added_or_deleted(admin_client, ledger):
    row = UserTokenBalance.objects.get(user=ledger)
    change = reverse("admin:tokens_usertokenbalance_change", args=[row.pk])

    admin_client.post(change, {"balance": 1000})

    assert UserTokenBalance.objects.get(pk=row.pk).balance == 28
    assert admin_client.get(reverse("admin:tokens_usertokenbalance_add")).status_code == 403
    delete = reverse("admin:tokens_usertokenbalance_delete", args=[row.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403


def test_the_regeneration_action_goes_through_the_service(admin_client, ledger, clock):
    clock.move_to(T0 + 31 * MINUTE)
    row = UserTokenBalance.objects.get(user=ledger)

    admin_client.post(
        reverse("admin:tokens_usertokenbalance_changelist"),
        {"action": "apply_regeneration", "_selected_action": [row.pk]},
    )

    assert UserTokenBalance.objects.get(pk=row.pk).balance == 30
    assert TokenTransaction.objects.filter(
        user=ledger, type=TokenTransactionType.EARN_REGENERATION, amount=2
    ).exists()


def test_the_ledger_is_read_only(admin_client, ledger):
    entry = TokenTransaction.objects.get(type=TokenTransactionType.SPEND_ENHANCEMENT)
    changelist = reverse("admin:tokens_tokentransaction_changelist")
    body = admin_client.get(changelist, {"q": "job1"}).content.decode()
    assert "carol@example.com" in body

    detail = admin_client.get(reverse("admin:tokens_tokentransaction_change", args=[entry.pk]))
    assert detail.status_code == 200 and "job1" in detail.content.decode()
    admin_client.post(
        reverse("admin:tokens_tokentransaction_change", args=[entry.pk]), {"amount": -100}
    )
    assert TokenTransaction.objects.get(pk=entry.pk).amount == -2
    assert admin_client.get(reverse("admin:tokens_tokentransaction_add")).status_code == 403
    delete = reverse("admin:tokens_tokentransaction_delete", args=[entry.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert TokenTransaction.objects.count() == 2


def test_packages_are_listed_with_filters(admin_client):
    TokensPackageFactory(name="Basic", tokens=50, price_usd="9.99")
    TokensPackageFactory(name="Old pack", active=False)
    url = reverse("admin:tokens_tokenspackage_changelist")
    body = admin_client.get(url, {"active__exact": "1"}).content.decode()
    assert "Basic" in body and "Old pack" not in body


def test_packages_are_managed_in_the_admin(admin_client):
    response = admin_client.post(
        reverse("admin:tokens_tokenspackage_add"),
        {
            "name": "Starter",
            "tokens": 10,
            "price_usd": "2.99",
            "currency": "gbp",
            "stripe_price_id": "price_starter",
            "active": "on",
            "sort_order": 1,
        },
    )
    assert response.status_code == 302
    package = TokensPackage.objects.get(stripe_price_id="price_starter")
    assert (package.tokens, str(package.price_usd)) == (10, "2.99")

    admin_client.post(
        reverse("admin:tokens_tokenspackage_delete", args=[package.pk]), {"post": "yes"}
    )
    assert not TokensPackage.objects.exists()
