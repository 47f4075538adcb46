"""System checks of an installation that takes payments."""

import io

import pytest
from django.core.management import call_command

from billing.checks import check_payments_setup
from tests.factories import SubscriptionPlanFactory, TokensPackageFactory

pytestmark = pytest.mark.django_db


def ids():
    return [message.id for message in check_payments_setup()]


def test_without_keys_nothing_is_checked(settings):
    settings.STRIPE_SECRET_KEY = ""
    TokensPackageFactory(stripe_price_id="price_pack_starter")
    assert ids() == []


def test_keys_without_a_webhook_endpoint_or_with_placeholder_prices_warn(fake_stripe):
    TokensPackageFactory(name="Starter", stripe_price_id="price_pack_starter")
    SubscriptionPlanFactory(name="Old", active=False, stripe_price_id="price_plan_old")

    messages = check_payments_setup()

    assert [m.id for m in messages] == ["billing.W001", "billing.W002"]
    assert "Starter" in messages[1].msg and "Old" not in messages[1].msg


def test_a_configured_installation_is_clean(fake_stripe, webhook, catalogue):
    assert ids() == []


def test_manage_py_check_reports_them(fake_stripe):
    TokensPackageFactory(name="Starter", stripe_price_id="price_pack_starter")
    err = io.StringIO()
    call_command("check", stdout=io.StringIO(), stderr=err)
    assert "billing.W001" in err.getvalue() and "billing.W002" in err.getvalue()
