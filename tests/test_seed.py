"""`manage.py seed`: the defaults of SCHEMA.md, and a second run changes nothing."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from billing.models import SubscriptionPlan
from tokens.models import TokensPackage


def _snapshot():
    return (
        list(TokensPackage.objects.order_by("pk").values()),
        list(SubscriptionPlan.objects.order_by("pk").values()),
    )


@pytest.mark.django_db
def test_seed_loads_the_schema_defaults(capsys):
    call_command("seed")

    packages = [
        (p.name, p.tokens, p.price_usd, p.currency, p.active) for p in TokensPackage.objects.all()
    ]
    assert packages == [
        ("Starter", 10, Decimal("2.99"), "gbp", True),
        ("Basic", 50, Decimal("9.99"), "gbp", True),
        ("Pro", 150, Decimal("24.99"), "gbp", True),
        ("Power", 500, Decimal("69.99"), "gbp", True),
    ]
    plans = [
        (p.name, p.tokens_per_month, p.price_gbp, p.max_rollover, p.priority, p.api_access)
        for p in SubscriptionPlan.objects.all()
    ]
    assert plans == [
        ("Hobby", 30, Decimal("4.99"), 30, False, False),
        ("Creator", 100, Decimal("12.99"), 100, True, False),
        ("Studio", 300, Decimal("29.99"), 0, True, True),  # 0 = unlimited rollover
    ]
    assert "7 created" in capsys.readouterr().out


@pytest.mark.django_db
def test_running_seed_twice_changes_nothing(capsys):
    call_command("seed")
    before = _snapshot()
    call_command("seed")
    assert _snapshot() == before
    assert "0 created, 7 already present" in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_keeps_what_the_admin_changed():
    call_command("seed")
    TokensPackage.objects.filter(name="Starter").update(
        price_usd=Decimal("3.49"), stripe_price_id="price_1RealStripeId"
    )
    SubscriptionPlan.objects.filter(name="Hobby").update(active=False)
    TokensPackage.objects.filter(name="Power").delete()

    call_command("seed")

    starter = TokensPackage.objects.get(name="Starter")
    assert starter.price_usd == Decimal("3.49")
    assert starter.stripe_price_id == "price_1RealStripeId"
    assert not SubscriptionPlan.objects.get(name="Hobby").active
    # A default that is missing altogether comes back.
    assert TokensPackage.objects.filter(name="Power").count() == 1
    assert TokensPackage.objects.count() == 4
