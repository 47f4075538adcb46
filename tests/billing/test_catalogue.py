"""manage.py stripe_catalogue: our packs and plans as Stripe products and prices, found again by
lookup key, so a deployment never copies price ids by hand."""

import io

import pytest
from django.core.management import CommandError, call_command
from djstripe.models import WebhookEndpoint

from tests.factories import SubscriptionPlanFactory, TokensPackageFactory

pytestmark = pytest.mark.django_db


def run() -> str:
    out = io.StringIO()
    call_command("stripe_catalogue", stdout=out)
    return out.getvalue()


@pytest.fixture
def rows(db):
    return {
        "pack": TokensPackageFactory(
            name="Basic", tokens=50, price_usd="9.99", stripe_price_id="price_pack_basic"
        ),
        "plan": SubscriptionPlanFactory(
            name="Creator",
            tokens_per_month=100,
            price_gbp="12.99",
            stripe_price_id="price_plan_creator",
        ),
        "retired": TokensPackageFactory(name="Old", active=False, stripe_price_id="price_pack_old"),
    }


def test_it_makes_products_and_prices_and_stores_their_ids(fake_stripe, rows):
    output = run()

    pack, plan, retired = (rows[k] for k in ("pack", "plan", "retired"))
    for row in (pack, plan, retired):
        row.refresh_from_db()
    pack_price = fake_stripe.get(pack.stripe_price_id)
    plan_price = fake_stripe.get(plan.stripe_price_id)
    assert (pack_price["unit_amount"], pack_price["currency"], pack_price["type"]) == (
        999,
        "gbp",
        "one_time",
    )
    assert pack_price["lookup_key"] == f"lumen_pack_{pack.pk}" == pack_price["product"]
    assert pack_price["metadata"]["lumen_pack_id"] == pack.pk
    assert (plan_price["unit_amount"], plan_price["recurring"]["interval"]) == (1299, "month")
    assert plan_price["metadata"]["lumen_plan_id"] == plan.pk
    assert fake_stripe.get(plan_price["product"])["name"] == "Creator plan (100 tokens a month)"
    assert retired.stripe_price_id == "price_pack_old"  # inactive rows are left alone
    assert "2 prices in place" in output


def test_a_second_run_changes_nothing(fake_stripe, rows):
    run()
    prices = {p["id"] for p in fake_stripe.of("price")}

    output = run()

    assert {p["id"] for p in fake_stripe.of("price")} == prices
    assert output.count("(kept)") == 2
    posts = [r for r in fake_stripe.requests if r[0] == "POST"]
    assert len(posts) == 4  # the first run's two products and two prices, nothing since


def test_a_changed_price_makes_a_new_stripe_price_and_retires_the_old(fake_stripe, rows):
    run()
    pack = rows["pack"]
    pack.refresh_from_db()
    old = pack.stripe_price_id
    pack.price_usd = "11.49"
    pack.name = "Basic plus"
    pack.save()

    output = run()

    pack.refresh_from_db()
    new = fake_stripe.get(pack.stripe_price_id)
    assert pack.stripe_price_id != old
    assert (new["unit_amount"], new["lookup_key"], new["active"]) == (
        1149,
        f"lumen_pack_{pack.pk}",
        True,
    )
    assert fake_stripe.get(old)["active"] is False
    assert fake_stripe.get(old)["lookup_key"] is None  # the key moved to the new price
    assert fake_stripe.get(new["product"])["name"] == "Basic plus pack (50 tokens)"
    assert f"replaced {old}" in output


def test_without_keys_it_says_payments_are_not_configured(rows, settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(CommandError, match="not configured"):
        run()


def test_when_stripe_fails_it_says_so(fake_stripe, rows, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    fake_stripe.down = True
    with pytest.raises(CommandError, match="Stripe could not be reached"):
        run()


def test_the_local_webhook_endpoint_for_the_stripe_cli(fake_stripe, settings):
    settings.SITE_URL = "http://localhost:8000"
    out = io.StringIO()
    call_command("stripe_local_webhook", "--secret", "whsec_from_the_cli", stdout=out)
    call_command("stripe_local_webhook", "--secret", "whsec_from_the_cli_again", stdout=out)

    endpoint = WebhookEndpoint.objects.get(id="we_local_stripe_cli")
    assert endpoint.secret == "whsec_from_the_cli_again"
    command = out.getvalue().splitlines()[-1]
    assert command == (
        f"stripe listen --forward-to http://localhost:8000/stripe/webhook/{endpoint.djstripe_uuid}/"
    )
    with pytest.raises(CommandError, match="whsec_"):
        call_command("stripe_local_webhook", "--secret", "sk_test_oops")
