"""The back office for billing: payments with their ledger rows, subscriptions, filters and
search, and a customer re-synced from Stripe by a member of staff (who is recorded)."""

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import StripePayment, Subscription
from tests.billing.test_subscriptions import subscribe
from tokens import services as tokens
from tokens.models import TokenTransaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def bought(fake_stripe, webhook, catalogue, user, owner_client):
    response = owner_client.post(f"/billing/checkout/pack/{catalogue['pro'].pk}/")
    session = fake_stripe.pay_checkout(response["Location"].rsplit("/", 1)[1])
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))
    charge = fake_stripe.get(session["payment_intent"])["latest_charge"]
    webhook.deliver(fake_stripe.event("charge.refunded", fake_stripe.refund(charge, 1250)))
    return StripePayment.objects.get()


def test_a_payment_shows_its_ledger_rows(admin_client, bought):
    page = admin_client.get(reverse("admin:billing_stripepayment_change", args=[bought.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    for entry in TokenTransaction.objects.filter(source="stripe", source_id=bought.pk):
        assert reverse("admin:tokens_tokentransaction_change", args=[entry.pk]) in html
    assert f"?source=stripe&amp;source_id={bought.pk}" in html
    assert "Purchase +150" in html and "Taken back (payment refunded) -75" in html
    assert bought.receipt_url in html


def test_payments_are_filtered_and_searched(admin_client, bought, user):
    url = reverse("admin:billing_stripepayment_changelist")
    for query in (
        {"status__exact": "REFUNDED"},
        {"q": user.email},
        {"q": bought.stripe_checkout_session_id},
        {"package__id__exact": bought.package_id},
    ):
        page = admin_client.get(url, query)
        assert page.status_code == 200 and bought.pk in page.content.decode(), query
    assert bought.pk not in admin_client.get(url, {"status__exact": "FAILED"}).content.decode()
    ledger = admin_client.get(
        reverse("admin:tokens_tokentransaction_changelist"),
        {"source": "stripe", "source_id": bought.pk},
    )
    assert ledger.status_code == 200 and "2 token transactions" in ledger.content.decode()


def test_staff_resync_a_customer_and_are_recorded(
    fake_stripe, webhook, catalogue, user, owner_client, admin_client, staff_user
):
    sub_id = subscribe(fake_stripe, webhook, owner_client, catalogue["hobby"])
    fake_stripe.cancel_at_period_end(sub_id)  # its webhook never came
    row = Subscription.objects.get(user=user)
    assert not row.cancel_at_period_end

    response = admin_client.post(
        reverse("admin:billing_subscription_changelist"),
        {"action": "resync_from_stripe", "_selected_action": [row.pk]},
        follow=True,
    )

    row.refresh_from_db()
    assert "1 customer(s) re-synced from Stripe." in response.content.decode()
    assert row.cancel_at_period_end
    assert row.staff_actions[-1]["action"] == "resync"
    assert row.staff_actions[-1]["by"] == staff_user.pk
    page = admin_client.get(reverse("admin:billing_subscription_change", args=[row.pk]))
    assert f"resync by {staff_user.email}" in page.content.decode()


def test_a_resync_of_someone_who_never_bought_says_so(admin_client, staff_user):
    from tests.factories import StripePaymentFactory

    payment = StripePaymentFactory()

    response = admin_client.post(
        reverse("admin:billing_stripepayment_changelist"),
        {"action": "resync_from_stripe", "_selected_action": [payment.pk]},
        follow=True,
    )

    assert "There is nothing to manage yet" in response.content.decode()


def test_a_resync_grants_nothing_even_for_an_upgrade(
    fake_stripe, webhook, catalogue, user, owner_client, admin_client
):
    sub_id = subscribe(fake_stripe, webhook, owner_client, catalogue["hobby"])
    fake_stripe.change_price(sub_id, catalogue["creator"].stripe_price_id)  # webhook not yet in
    row = Subscription.objects.get(user=user)

    admin_client.post(
        reverse("admin:billing_subscription_changelist"),
        {"action": "resync_from_stripe", "_selected_action": [row.pk]},
    )

    row.refresh_from_db()
    assert row.plan == catalogue["creator"] and tokens.get_balance(user) == 30
    webhook.deliver(fake_stripe.event("customer.subscription.updated", fake_stripe.get(sub_id)))
    assert tokens.get_balance(user) == 100  # the webhook grants the difference
