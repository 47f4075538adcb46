"""The purchase a person walks through, in real Chromium: pricing -> Buy -> Stripe's Checkout
(the fake's page) -> back to the success page, which updates itself when the webhook (posted
by the test, as Stripe would) has granted the tokens. Screenshots of the pricing, billing and
success pages at desktop and phone widths."""

import re

import pytest
from playwright.sync_api import expect

from billing.models import StripePayment
from tests.billing.test_subscriptions import subscribe
from tests.browser.test_csp import Watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shoot(page, screenshots):
    def both(name: str):
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=screenshots / f"billing-{name}.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=screenshots / f"billing-{name}-phone.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})

    return both


@pytest.fixture
def stripe_origin_allowed(settings, fake_stripe):
    """Chrome checks a form's redirect against form-action: let the fake's Checkout in, as the
    real policy lets checkout.stripe.com in."""
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {**policy["DIRECTIVES"]}
    directives["form-action"] = [*directives["form-action"], fake_stripe.url]
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}


def test_buying_a_pack_in_the_browser(
    page,
    live_server,
    browser_login,
    fake_stripe,
    webhook,
    catalogue,
    user,
    shoot,
    settings,
    stripe_origin_allowed,
    owner_client,
):
    settings.BILLING_SUCCESS_POLL_SECONDS = 1
    watch = Watch(page)
    browser_login(user)

    page.goto(live_server.url + "/pricing/")
    expect(page.get_by_role("heading", name="Pricing", level=1)).to_be_visible()
    shoot("pricing")
    page.get_by_role("button", name="Buy Starter pack").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(fake_stripe.url)}/checkout/cs_test_"))
    expect(page.get_by_role("heading", name="Fake Checkout")).to_be_visible()
    session_id = page.url.rsplit("/", 1)[1]
    page.get_by_role("button", name="Pay").click()

    expect(page).to_have_url(re.compile(rf"/billing/success/\?session_id={session_id}$"))
    state = page.locator("#checkout-state")
    expect(state).to_contain_text("Waiting for Stripe's confirmation")
    expect(page.locator("#balance-badge")).to_have_text("0 tokens")
    shoot("success-waiting")

    webhook.deliver(fake_stripe.event("checkout.session.completed", fake_stripe.get(session_id)))

    expect(state).to_contain_text("Payment received", timeout=15_000)
    expect(page.locator("#checkout-balance")).to_have_text("10")
    expect(page.locator("#balance-badge")).to_have_text("10 tokens")
    shoot("success")

    subscribe(fake_stripe, webhook, owner_client, catalogue["creator"])
    page.goto(live_server.url + "/billing/")
    expect(page.get_by_role("link", name=re.compile("^Receipt"))).to_have_attribute(
        "href", StripePayment.objects.get().receipt_url
    )
    expect(page.locator(".billing-plan")).to_contain_text("Creator")
    shoot("billing")

    page.goto(live_server.url + "/pricing/?cancelled=1")
    expect(page.get_by_text("Checkout cancelled")).to_be_visible()
    shoot("pricing-subscribed")
    assert watch.problems() == []
