"""Pricing, the way to Checkout and back, the billing page and the portal: the owner, a stranger
and an anonymous visitor, with payments configured against the fake and without keys."""

import datetime as dt
import re

import pytest
import stripe
from django.contrib.messages import get_messages
from djstripe.models import Customer

from billing.models import StripePayment
from tests.factories import StripePaymentFactory, TokensPackageFactory, UserFactory
from tokens import services as tokens

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- pricing ----------------------------------------------------------------------------------
def test_pricing_shows_every_pack_and_plan_with_what_it_gives(catalogue, anon_client):
    page = text(anon_client.get("/pricing/"))

    for name in ("Starter", "Pro", "Hobby", "Creator", "Studio"):
        assert name in page
    assert "£2.99" in page and "10 tokens" in page and "£0.30 per token" in page
    assert "£12.99 <small>/ month</small>" in page and "100 tokens every month" in page
    assert "roll over, up to 30" in page and "roll over, without limit" in page
    assert "Your jobs skip the regular queue" in page and "Enhance from your own apps (API)" in page
    # a visitor signs up first: no form posts to checkout
    assert "Sign up to buy" in page and "/billing/checkout/" not in page


def test_pricing_shows_the_users_balance_and_plan(catalogue, user, owner_client):
    tokens.grant(user=user, amount=42, type="EARN_BONUS", source="test", idempotency_key="g")

    page = text(owner_client.get("/pricing/"))

    assert "42</span> tokens now" in page
    assert "No plan" in page
    assert f'action="/billing/checkout/pack/{catalogue["starter"].pk}/"' in page
    assert f'action="/billing/checkout/plan/{catalogue["creator"].pk}/"' in page


def test_without_keys_pricing_shows_everything_and_buying_says_why_not(
    settings, user, owner_client
):
    settings.STRIPE_SECRET_KEY = ""
    pack = TokensPackageFactory(name="Starter")

    page = text(owner_client.get("/pricing/"))
    assert "Payments are not configured on this installation" in page
    assert "Starter" in page

    response = owner_client.post(f"/billing/checkout/pack/{pack.pk}/")

    assert (response.status_code, response["Location"]) == (303, "/pricing/")
    assert flashed(response) == [
        "Payments are not configured on this installation, so nothing can be bought here."
    ]
    user.refresh_from_db()
    assert user.stripe_customer_id is None


def test_cancelling_at_stripe_comes_back_to_pricing_with_nothing_changed(
    fake_stripe, catalogue, user, owner_client
):
    response = owner_client.post(f"/billing/checkout/pack/{catalogue['starter'].pk}/")
    session = fake_stripe.get(response["Location"].rsplit("/", 1)[1])
    assert session["cancel_url"] == "http://testserver/pricing/?cancelled=1"

    page = text(owner_client.get("/pricing/?cancelled=1"))

    assert "Checkout cancelled: nothing was charged" in page
    assert not StripePayment.objects.exists()
    assert tokens.get_balance(user) == 0


def test_checkout_is_for_this_user_and_this_pack(fake_stripe, catalogue, user, owner_client):
    response = owner_client.post(f"/billing/checkout/pack/{catalogue['pro'].pk}/")

    session = fake_stripe.get(response["Location"].rsplit("/", 1)[1])
    user.refresh_from_db()
    assert session["customer"] == user.stripe_customer_id
    assert fake_stripe.get(user.stripe_customer_id)["email"] == user.email
    assert Customer.objects.get(subscriber=user).id == user.stripe_customer_id  # dj-stripe's
    assert (session["mode"], session["client_reference_id"]) == ("payment", user.pk)
    assert session["_line_items"] == [{"price": catalogue["pro"].stripe_price_id, "quantity": "1"}]
    assert session["metadata"] == {
        "kind": "pack",
        "user_id": user.pk,
        "package_id": catalogue["pro"].pk,
        "tokens": "150",
    }
    assert session["success_url"] == (
        "http://testserver/billing/success/?session_id={CHECKOUT_SESSION_ID}"
    )

    owner_client.post(f"/billing/checkout/pack/{catalogue['pro'].pk}/")
    assert len(fake_stripe.of("customer")) == 1  # one customer per user, made once


def test_a_pack_not_on_sale_is_a_404_and_a_visitor_must_sign_in(
    fake_stripe, catalogue, owner_client, anon_client
):
    retired = TokensPackageFactory(active=False)
    assert owner_client.post(f"/billing/checkout/pack/{retired.pk}/").status_code == 404
    response = anon_client.post(f"/billing/checkout/pack/{catalogue['starter'].pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert owner_client.get(f"/billing/checkout/pack/{catalogue['starter'].pk}/").status_code == 405
    assert not fake_stripe.of("checkout.session")


def test_when_stripe_fails_at_checkout_the_user_is_told_and_nothing_is_charged(
    fake_stripe, catalogue, settings, owner_client, monkeypatch
):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    monkeypatch.setattr(stripe, "max_network_retries", 0)  # dj-stripe's calls (the customer)
    fake_stripe.down = True

    response = owner_client.post(f"/billing/checkout/plan/{catalogue['hobby'].pk}/")

    assert (response.status_code, response["Location"]) == (303, "/pricing/")
    assert "Stripe could not be reached" in flashed(response)[0]


# --- back from Checkout -----------------------------------------------------------------------
@pytest.fixture
def returned(fake_stripe, catalogue, owner_client):
    """The owner paid at Checkout and is sent back: the success URL and the paid session."""
    response = owner_client.post(f"/billing/checkout/pack/{catalogue['starter'].pk}/")
    session = fake_stripe.pay_checkout(response["Location"].rsplit("/", 1)[1])
    return fake_stripe.checkout_success_url(session["id"]).replace("http://testserver", ""), session


def test_the_success_page_waits_for_the_webhook_then_shows_the_balance(
    fake_stripe, webhook, returned, user, owner_client
):
    url, session = returned
    status_url = url.replace("/success/", "/success/status/")

    waiting = text(owner_client.get(url))
    assert "Waiting for Stripe's confirmation" in waiting
    assert f'hx-get="{status_url}"' in waiting.replace("&amp;", "&")
    assert 'hx-trigger="every 2s"' in waiting
    assert tokens.get_balance(user) == 0  # coming back grants nothing

    webhook.deliver(fake_stripe.event("checkout.session.completed", session))
    done = text(owner_client.get(status_url))

    assert "Payment received" in done and "10 tokens were added" in done
    assert 'id="checkout-balance">10<' in done
    assert "hx-trigger" not in done  # polling stops
    assert 'id="balance-badge" hx-swap-oob="true">10 tokens' in done


def test_a_late_webhook_is_said_plainly(returned, owner_client, time_machine, settings):
    url, _session = returned
    time_machine.move_to(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False)
    assert "taking longer than usual" not in text(owner_client.get(url))

    time_machine.move_to(
        dt.datetime(2026, 3, 1, 12, 0, settings.BILLING_WEBHOOK_LATE_SECONDS, tzinfo=dt.UTC),
        tick=False,
    )
    late = text(owner_client.get(url.replace("/success/", "/success/status/")))

    assert "This is taking longer than usual." in late
    assert "Nothing is lost" in late and "hx-trigger" in late  # and it keeps waiting


def test_a_delayed_payment_and_a_failed_one_are_said_on_the_success_page(
    fake_stripe, webhook, catalogue, owner_client
):
    response = owner_client.post(f"/billing/checkout/pack/{catalogue['starter'].pk}/")
    session = fake_stripe.pay_checkout(response["Location"].rsplit("/", 1)[1], delayed=True)
    url = fake_stripe.checkout_success_url(session["id"])
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))

    assert "Your payment is on its way" in text(owner_client.get(url))

    failed = fake_stripe.settle_delayed_payment(session["id"], succeeded=False)
    webhook.deliver(fake_stripe.event("checkout.session.async_payment_failed", failed))
    page = text(owner_client.get(url))
    assert "The payment did not go through" in page and "hx-trigger" not in page


def test_the_success_page_of_a_plan(fake_stripe, webhook, catalogue, owner_client):
    response = owner_client.post(f"/billing/checkout/plan/{catalogue['creator'].pk}/")
    session = fake_stripe.pay_checkout(response["Location"].rsplit("/", 1)[1])
    url = fake_stripe.checkout_success_url(session["id"])
    assert "Waiting for Stripe's confirmation" in text(owner_client.get(url))

    webhook.deliver(fake_stripe.event("checkout.session.completed", session))
    webhook.deliver(
        fake_stripe.event(
            "invoice.paid",
            fake_stripe.get(fake_stripe.get(session["subscription"])["latest_invoice"]),
        )
    )

    page = text(owner_client.get(url))
    assert "Your Creator plan is active" in page and 'id="checkout-balance">100<' in page


def test_someone_elses_checkout_is_a_404_and_junk_a_400(
    fake_stripe, webhook, returned, stranger_client, owner_client
):
    url, session = returned
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))

    assert stranger_client.get(url).status_code == 404
    assert stranger_client.get(url.replace("/success/", "/success/status/")).status_code == 404
    assert owner_client.get("/billing/success/?session_id=cs_test_unknown123").status_code == 404
    for junk in ("", "pi_123", "cs_test_" + "x" * 300, "cs_test_a'--"):
        response = owner_client.get("/billing/success/", {"session_id": junk})
        assert response.status_code == 400, junk


def test_the_owner_finds_a_past_checkout_from_another_browser(fake_stripe, webhook, returned, user):
    from django.test import Client

    url, session = returned
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))
    elsewhere = Client()
    elsewhere.force_login(user)

    assert "Payment received" in text(elsewhere.get(url))


# --- the billing page and the portal ----------------------------------------------------------
def test_the_billing_page_lists_payments_with_receipts_and_the_plan(
    fake_stripe, webhook, catalogue, user, owner_client
):
    for pack in ("starter", "pro"):
        response = owner_client.post(f"/billing/checkout/pack/{catalogue[pack].pk}/")
        session = fake_stripe.pay_checkout(response["Location"].rsplit("/", 1)[1])
        webhook.deliver(fake_stripe.event("checkout.session.completed", session))
    response = owner_client.post(f"/billing/checkout/plan/{catalogue['hobby'].pk}/")
    session = fake_stripe.pay_checkout(response["Location"].rsplit("/", 1)[1])
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))
    pro = StripePayment.objects.get(package=catalogue["pro"])

    page = text(owner_client.get("/billing/"))

    assert "Starter" in page and "Pro" in page and "£24.99" in page and ">150<" in page
    assert f'href="{pro.receipt_url}"' in page
    assert "Hobby" in page and "Active" in page and "Next renewal" in page
    assert "Rollover carried</dt><dd>0 tokens" in page
    assert 'action="/billing/portal/"' in page


def test_the_billing_page_shows_only_the_users_own_and_its_queries_do_not_grow(
    user, owner_client, django_assert_max_num_queries
):
    other = UserFactory()
    StripePaymentFactory(user=other, receipt_url="https://pay.stripe.com/receipts/theirs")
    for _ in range(3):
        StripePaymentFactory(user=user, status="SUCCEEDED")
    with django_assert_max_num_queries(12) as few:
        owner_client.get("/billing/")
    for _ in range(20):
        StripePaymentFactory(user=user, status="SUCCEEDED")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = text(owner_client.get("/billing/"))
    assert "receipts/theirs" not in page


def test_manage_billing_opens_stripes_portal(fake_stripe, catalogue, user, owner_client):
    assert flashed(owner_client.post("/billing/portal/")) == [
        "There is nothing to manage yet: you have not bought anything."
    ]
    owner_client.post(f"/billing/checkout/pack/{catalogue['starter'].pk}/")

    response = owner_client.post("/billing/portal/")

    assert response.status_code == 303
    assert response["Location"].startswith(f"{fake_stripe.url}/portal/bps_")
    portal = fake_stripe.of("billing_portal.session")[0]
    assert portal["return_url"] == "http://testserver/billing/"


def test_billing_pages_need_a_sign_in(anon_client):
    for url in ("/billing/", "/billing/success/?session_id=cs_test_1"):
        response = anon_client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert anon_client.post("/billing/portal/").status_code == 302


# --- every way to buy leads to pricing --------------------------------------------------------
# "Buy ...", "Choose <a plan>", "Get more tokens" (not "Choose other images")
BUY_LINK = re.compile(r'<a\b[^>]*\bhref="([^"]*)"[^>]*>\s*(Buy|Choose \{\{ plan|Get more tokens)\b')


def test_every_buy_choose_and_get_more_tokens_link_leads_to_pricing():
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    templates = [p for p in root.glob("**/templates/**/*.html") if ".venv" not in p.parts]
    links = [
        (path.relative_to(root), href, label)
        for path in templates
        for href, label in BUY_LINK.findall(path.read_text())
    ]
    assert len(links) >= 5, links  # home (packs, plans), jobs (panel, batch, problem), tokens
    assert [link for link in links if "billing:pricing" not in link[1]] == []


def test_the_home_pages_buttons_lead_to_their_pack_and_plan(catalogue, anon_client):
    page = text(anon_client.get("/"))
    assert f'href="/pricing/#pack-{catalogue["starter"].pk}"' in page
    assert f'href="/pricing/#plan-{catalogue["creator"].pk}"' in page
