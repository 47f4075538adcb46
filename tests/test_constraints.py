"""Every database constraint refuses a bad row.

Each case writes one row that breaks one rule, straight through the ORM (no form, no
`full_clean`), and the database must raise `IntegrityError`. Where the backend names the
constraint in its error, the test checks it is that constraint and not another one.
`test_every_constraint_has_a_case` fails when a model gains a constraint without a case here.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.db.models import CheckConstraint, UniqueConstraint
from django.utils import timezone

from accounts.models import User
from albums.models import Album, AlbumImage
from billing.models import StripePayment, Subscription, SubscriptionPlan
from enhancement.models import EnhancedImage, ImageEnhancementJob
from platform_apps.models import App, MonetizationModel, Requirement
from tests.factories import UserFactory
from tokens.models import TokensPackage, TokenTransaction, UserTokenBalance
from vouchers.models import Voucher, VoucherRedemption

OUR_APPS = {"accounts", "tokens", "enhancement", "billing", "albums", "vouchers", "platform_apps"}


# --- rows that are fine, to break one rule at a time ---------------------------------------
def _user(email="owner@example.com"):
    return UserFactory(email=email)


def _image(user=None, **overrides):
    values = {
        "user": user or _user(),
        "name": "photo.jpg",
        "original_r2_key": "users/u/images/i/original.jpg",
        "original_width": 800,
        "original_height": 600,
        "original_size_bytes": 1234,
        "original_format": "jpeg",
    }
    return EnhancedImage.objects.create(**{**values, **overrides})


def _job(**overrides):
    image = overrides.pop("image", None) or _image()
    values = {"image": image, "user": image.user, "tier": "TIER_1K", "tokens_cost": 2}
    return ImageEnhancementJob.objects.create(**{**values, **overrides})


def _tx(**overrides):
    values = {"user": _user(), "amount": 5, "type": "EARN_BONUS", "balance_after": 5}
    return TokenTransaction.objects.create(**{**values, **overrides})


def _package(**overrides):
    values = {"name": "Pack", "tokens": 10, "price_usd": Decimal("2.99"), "stripe_price_id": "p1"}
    return TokensPackage.objects.create(**{**values, **overrides})


def _plan(**overrides):
    values = {
        "name": "Plan",
        "tokens_per_month": 30,
        "price_gbp": Decimal("4.99"),
        "stripe_price_id": "plan1",
    }
    return SubscriptionPlan.objects.create(**{**values, **overrides})


def _payment(**overrides):
    values = {
        "user": _user(),
        "package": _package(),
        "tokens_granted": 10,
        "amount_usd": Decimal("2.99"),
        "stripe_payment_intent_id": "pi_1",
    }
    return StripePayment.objects.create(**{**values, **overrides})


def _subscription(**overrides):
    now = timezone.now()
    values = {
        "user": _user(),
        "stripe_subscription_id": "sub_1",
        "stripe_price_id": "plan1",
        "status": "ACTIVE",
        "current_period_start": now,
        "current_period_end": now + timedelta(days=30),
        "tokens_per_month": 30,
        "max_rollover": 30,
    }
    return Subscription.objects.create(**{**values, **overrides})


def _album(**overrides):
    values = {"user": _user(), "name": "Holiday"}
    return Album.objects.create(**{**values, **overrides})


def _voucher(**overrides):
    values = {"code": "WELCOME", "type": "FIXED_TOKENS", "value": 10}
    return Voucher.objects.create(**{**values, **overrides})


def _app(**overrides):
    values = {"user": _user(), "name": "My app"}
    return App.objects.create(**{**values, **overrides})


# --- one bad row per rule ----------------------------------------------------------------------
def _duplicate_album_image():
    image = _image()
    album = _album(user=image.user)
    AlbumImage.objects.create(album=album, image=image)
    AlbumImage.objects.create(album=album, image=image)


def _duplicate_redemption():
    voucher, user = _voucher(), _user()
    VoucherRedemption.objects.create(voucher=voucher, user=user, tokens_granted=10)
    VoucherRedemption.objects.create(voucher=voucher, user=user, tokens_granted=10)


def _app_forked_from_itself():
    app = _app()
    App.objects.filter(pk=app.pk).update(forked_from=app.pk)


def _second_balance_for_a_user():
    user = _user()  # the signal gave it one already
    UserTokenBalance.objects.create(user=user)


def _second_subscription_for_a_user():
    user = _user()
    _subscription(user=user)
    _subscription(user=user, stripe_subscription_id="sub_2")


# name -> a function that writes a row breaking exactly that rule
CASES = {
    # accounts
    "user_email_ci_unique": lambda: (
        User.objects.create(email="Same@Example.com"),
        User.objects.create(email="same@example.com"),
    ),
    "User.email": lambda: (
        User.objects.create(email="same@example.com"),
        User.objects.create(email="same@example.com"),
    ),
    "User.stripe_customer_id": lambda: (
        UserFactory(email="a@example.com", stripe_customer_id="cus_1"),
        UserFactory(email="b@example.com", stripe_customer_id="cus_1"),
    ),
    # tokens
    "token_balance_not_negative": lambda: UserTokenBalance.objects.filter(user=_user()).update(
        balance=-1
    ),
    "UserTokenBalance.user": _second_balance_for_a_user,
    "tokentx_balance_after_not_negative": lambda: _tx(balance_after=-1),
    "tokentx_amount_sign_matches_type": lambda: _tx(type="SPEND_ENHANCEMENT", amount=5),
    "TokenTransaction.idempotency_key": lambda: (
        _tx(idempotency_key="job:1"),
        TokenTransaction.objects.create(
            user=_user("other@example.com"),
            amount=1,
            type="REFUND",
            balance_after=1,
            idempotency_key="job:1",
        ),
    ),
    "package_tokens_positive": lambda: _package(tokens=0),
    "package_price_not_negative": lambda: _package(price_usd=Decimal("-0.01")),
    "TokensPackage.stripe_price_id": lambda: (_package(), _package(name="Copy")),
    # billing
    "payment_amount_not_negative": lambda: _payment(amount_usd=Decimal("-1.00")),
    "StripePayment.stripe_payment_intent_id": lambda: (
        _payment(),
        StripePayment.objects.create(
            user=_user("other@example.com"),
            package=TokensPackage.objects.get(),
            tokens_granted=10,
            amount_usd=Decimal("2.99"),
            stripe_payment_intent_id="pi_1",
        ),
    ),
    "subscription_period_ordered": lambda: _subscription(
        current_period_end=timezone.now() - timedelta(days=60)
    ),
    "subscription_rollover_within_max": lambda: _subscription(rollover_tokens=31),
    "Subscription.user": _second_subscription_for_a_user,
    "Subscription.stripe_subscription_id": lambda: (
        _subscription(),
        _subscription(user=_user("other@example.com")),
    ),
    "plan_tokens_positive": lambda: _plan(tokens_per_month=0),
    "plan_price_not_negative": lambda: _plan(price_gbp=Decimal("-4.99")),
    "SubscriptionPlan.stripe_price_id": lambda: (_plan(), _plan(name="Copy")),
    # enhancement
    "image_dimensions_positive": lambda: _image(original_width=0),
    "job_cost_matches_tier": lambda: _job(tier="TIER_4K", tokens_cost=2),
    "job_retry_count_within_max": lambda: _job(retry_count=4, max_retries=3),
    # update(): a FileField turns None into "" on save(), so only an update writes NULL.
    "job_completed_has_result": lambda: ImageEnhancementJob.objects.filter(pk=_job().pk).update(
        status="COMPLETED", enhanced_r2_key=None
    ),
    "ImageEnhancementJob.request_key": lambda: (
        _job(request_key="k1"),
        _job(request_key="k1", image=EnhancedImage.objects.get()),
    ),
    # albums
    "album_shared_has_token": lambda: _album(privacy="UNLISTED", share_token=None),
    "Album.share_token": lambda: (
        _album(privacy="UNLISTED", share_token="tok"),
        _album(user=_user("other@example.com"), privacy="PUBLIC", share_token="tok"),
    ),
    "album_image_unique": _duplicate_album_image,
    # vouchers
    "voucher_uses_within_max": lambda: _voucher(max_uses=5, current_uses=6),
    "voucher_value_positive": lambda: _voucher(value=0),
    "voucher_percentage_at_most_100": lambda: _voucher(type="PERCENTAGE_BONUS", value=101),
    "Voucher.code": lambda: (_voucher(), _voucher(code="welcome ")),
    "voucher_redemption_once": _duplicate_redemption,
    # platform apps
    "app_not_forked_from_itself": _app_forked_from_itself,
    "App.domain": lambda: (_app(domain="a.example.com"), _app(domain="a.example.com")),
    "requirement_version_positive": lambda: Requirement.objects.create(
        app=_app(), description="x", version=0
    ),
    "monetization_price_not_negative": lambda: MonetizationModel.objects.create(
        app=_app(), type="ONE_TIME", price=Decimal("-1")
    ),
    "monetization_subscription_has_interval": lambda: MonetizationModel.objects.create(
        app=_app(), type="SUBSCRIPTION", price=Decimal("5"), subscription_interval=None
    ),
}


def _model_rules() -> dict[str, str]:
    """Every named constraint and every unique field (but the primary key) of our models, with
    its kind: "check", "unique" (named), "unique-expression" or "unique-field"."""
    rules = {}
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS:
            continue
        for constraint in model._meta.constraints:
            if isinstance(constraint, CheckConstraint):
                rules[constraint.name] = "check"
            elif isinstance(constraint, UniqueConstraint):
                rules[constraint.name] = "unique-expression" if constraint.expressions else "unique"
        for field in model._meta.concrete_fields:
            if field.unique and not field.primary_key:
                rules[f"{model.__name__}.{field.name}"] = "unique-field"
    return rules


def test_every_constraint_has_a_case():
    rules = set(_model_rules())
    assert rules - set(CASES) == set(), "constraints without a test case"
    assert set(CASES) - rules == set(), "cases for constraints that no longer exist"


@pytest.mark.django_db
@pytest.mark.parametrize("rule", sorted(CASES))
def test_the_database_refuses_a_bad_row(rule):
    kind = _model_rules()[rule]
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        CASES[rule]()
    message = str(excinfo.value)
    # The error is this rule's, not some other: backends name what they can. PostgreSQL names
    # every constraint; SQLite names CHECKs and expression indexes, and lists columns otherwise.
    names_it = kind in ("check", "unique-expression") or (
        kind == "unique" and connection.vendor == "postgresql"
    )
    if names_it:
        assert rule in message
    else:
        assert "unique" in message.lower() or "duplicate" in message.lower()


@pytest.mark.django_db
def test_a_completed_job_without_a_result_key_is_refused_even_when_saved():
    # A FileField saves "no file" as '', so the constraint must refuse '' as well as NULL.
    with pytest.raises(IntegrityError), transaction.atomic():
        _job(status="COMPLETED", enhanced_r2_key=None)
