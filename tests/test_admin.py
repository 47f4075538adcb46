"""The back office: every registered model's changelist and add page, for every kind of visitor.

The registry is read at test time, so models registered by any app are covered.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from albums.models import Album, AlbumImage
from billing.models import StripePayment, Subscription, SubscriptionPlan
from enhancement.models import EnhancedImage
from platform_apps.models import App, MonetizationModel, Requirement
from tests.factories import UserFactory
from tokens.models import TokensPackage, TokenTransaction
from vouchers.models import Voucher, VoucherRedemption


def _registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _pages(superuser):
    """(label, url) of every changelist, and of every add page a superuser may open."""
    request = RequestFactory().get("/admin/")
    request.user = superuser
    pages = []
    for model, model_admin in _registered():
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        pages.append((f"{model._meta.label} list", reverse(f"admin:{info}_changelist")))
        if model_admin.has_add_permission(request):
            pages.append((f"{model._meta.label} add", reverse(f"admin:{info}_add")))
    return pages


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(email="root@example.com", password="x")


@pytest.mark.django_db
def test_the_registry_covers_our_models():
    registered = {model._meta.label for model in admin.site._registry}
    ours = {
        "accounts.User",
        "billing.StripePayment",
        "billing.Subscription",
        "billing.SubscriptionPlan",
        "albums.Album",
        "albums.AlbumImage",
        "vouchers.Voucher",
        "vouchers.VoucherRedemption",
        "platform_apps.App",
        "platform_apps.Requirement",
        "platform_apps.MonetizationModel",
    }
    assert ours <= registered


@pytest.mark.django_db
def test_superuser_opens_every_changelist_and_add_page(client, superuser):
    client.force_login(superuser)
    failures = []
    for label, url in _pages(superuser):
        status = client.get(url).status_code
        if status != 200:
            failures.append((label, url, status))
    assert failures == []


@pytest.mark.django_db
def test_a_signed_in_customer_is_sent_to_the_admin_login(client, superuser, user):
    client.force_login(user)
    for _label, url in _pages(superuser):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_the_admin_login(client, superuser):
    for _label, url in _pages(superuser):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


@pytest.mark.django_db
def test_staff_without_permissions_are_refused(client, superuser):
    staff = UserFactory(email="staff@example.com", is_staff=True)
    client.force_login(staff)
    for _label, url in _pages(superuser):
        assert client.get(url).status_code == 403, url


# --- change pages and inlines of the models this app registers ------------------------------
@pytest.fixture
def objects(db, user):
    image = EnhancedImage.objects.create(
        user=user,
        name="photo.jpg",
        original_r2_key="users/u/images/i/original.jpg",
        original_width=800,
        original_height=600,
        original_size_bytes=1000,
        original_format="jpeg",
    )
    album = Album.objects.create(user=user, name="Holiday", privacy="UNLISTED", share_token="t1")
    AlbumImage.objects.create(album=album, image=image)
    package = TokensPackage.objects.create(
        name="Starter", tokens=10, price_usd=Decimal("2.99"), stripe_price_id="price_s"
    )
    plan = SubscriptionPlan.objects.create(
        name="Hobby", tokens_per_month=30, price_gbp=Decimal("4.99"), stripe_price_id="price_h"
    )
    payment = StripePayment.objects.create(
        user=user,
        package=package,
        tokens_granted=10,
        amount_usd=Decimal("2.99"),
        stripe_payment_intent_id="pi_1",
        status="SUCCEEDED",
    )
    now = timezone.now()
    subscription = Subscription.objects.create(
        user=user,
        stripe_subscription_id="sub_1",
        stripe_price_id="price_h",
        status="ACTIVE",
        current_period_start=now,
        current_period_end=now + timedelta(days=30),
        tokens_per_month=30,
    )
    voucher = Voucher.objects.create(code="WELCOME", type="FIXED_TOKENS", value=10, max_uses=5)
    redemption = VoucherRedemption.objects.create(voucher=voucher, user=user, tokens_granted=10)
    app = App.objects.create(user=user, name="Thing", domain="thing.example.com")
    requirement = Requirement.objects.create(app=app, description="Make it fast")
    monetization = MonetizationModel.objects.create(app=app, type="FREE")
    return [
        user,
        album,
        album.album_images.get(),
        plan,
        payment,
        subscription,
        voucher,
        redemption,
        app,
        requirement,
        monetization,
    ]


@pytest.mark.django_db
def test_change_pages_open_with_their_inlines(client, superuser, objects):
    client.force_login(superuser)
    for obj in objects:
        info = f"{obj._meta.app_label}_{obj._meta.model_name}"
        response = client.get(reverse(f"admin:{info}_change", args=[obj.pk]))
        assert response.status_code == 200, obj._meta.label
    body = client.get(reverse("admin:vouchers_voucher_change", args=[objects[6].pk])).content
    assert b"alice@example.com" in body  # the redemption inline


@pytest.mark.django_db
def test_changelist_search_and_filters_work(client, superuser, objects):
    client.force_login(superuser)
    for url in (
        reverse("admin:accounts_user_changelist") + "?q=alice",
        reverse("admin:albums_album_changelist") + "?privacy__exact=UNLISTED",
        reverse("admin:vouchers_voucher_changelist") + "?q=WELC",
        reverse("admin:billing_stripepayment_changelist") + "?status__exact=SUCCEEDED",
        reverse("admin:platform_apps_app_changelist") + "?q=thing",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.context["cl"].result_count == 1, url


@pytest.mark.django_db
def test_user_admin_shows_the_balance_read_only(client, superuser, user):
    client.force_login(superuser)
    body = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "Tokens" in body
    change = client.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
    assert 'name="balance"' not in change


@pytest.mark.django_db
def test_admin_creates_a_user_by_email(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Person@Example.com",
            "name": "New",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase-1",
            "password2": "a-long-enough-passphrase-1",
        },
    )
    assert response.status_code == 302
    created = get_user_model().objects.get(email="new.person@example.com")
    assert created.check_password("a-long-enough-passphrase-1")
    assert created.token_balance.balance == 0


@pytest.mark.django_db
def test_plans_and_vouchers_are_managed_in_the_admin(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:billing_subscriptionplan_add"),
        {
            "name": "Team",
            "stripe_price_id": "price_team",
            "active": "on",
            "sort_order": "4",
            "tokens_per_month": "1000",
            "max_rollover": "0",
            "price_gbp": "79.00",
        },
    )
    assert response.status_code == 302
    assert SubscriptionPlan.objects.get(name="Team").price_gbp == Decimal("79.00")

    response = client.post(
        reverse("admin:vouchers_voucher_add"),
        {
            "code": "spring",
            "type": "FIXED_TOKENS",
            "value": "25",
            "status": "ACTIVE",
            "max_uses": "100",
            "metadata": "null",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert Voucher.objects.get(code="SPRING").current_uses == 0


@pytest.mark.django_db
def test_payments_and_redemptions_cannot_be_added_or_deleted(client, superuser, objects):
    client.force_login(superuser)
    payment, redemption = objects[4], objects[7]
    assert client.get(reverse("admin:billing_stripepayment_add")).status_code == 403
    assert client.get(reverse("admin:vouchers_voucherredemption_add")).status_code == 403
    url = reverse("admin:billing_stripepayment_delete", args=[payment.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    url = reverse("admin:vouchers_voucherredemption_delete", args=[redemption.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert StripePayment.objects.filter(pk=payment.pk).exists()


@pytest.mark.django_db
def test_token_transactions_are_never_edited_in_the_admin(client, superuser, user):
    if TokenTransaction not in admin.site._registry:
        pytest.skip("TokenTransaction is not registered in the admin yet")
    from tokens import services

    tx = services.grant(user=user, amount=5, type="EARN_BONUS", source="test")
    client.force_login(superuser)
    assert client.get(reverse("admin:tokens_tokentransaction_add")).status_code == 403
    change_url = reverse("admin:tokens_tokentransaction_change", args=[tx.pk])
    response = client.post(change_url, {"amount": "500", "type": "EARN_BONUS"})
    assert response.status_code in (302, 403)
    delete_url = reverse("admin:tokens_tokentransaction_delete", args=[tx.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    tx.refresh_from_db()
    assert tx.amount == 5
