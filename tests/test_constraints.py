"""Every database constraint refuses a bad row.

Each case writes one row that breaks one rule, with the factories of tests/factories.py (valid
rows by default: the case overrides only what breaks its rule), straight through the ORM (no
form, no `full_clean`), and the database must raise `IntegrityError`. Where the backend names
the constraint in its error, the test checks it is that constraint and not another one.
`test_every_constraint_has_a_case` fails when a model gains a constraint without a case here;
`test_every_model_has_a_factory` when a model gains no factory, and
`test_each_factory_makes_a_valid_row` when a factory's defaults break a rule.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.db.models import CheckConstraint, UniqueConstraint
from django.utils import timezone
from factory.django import DjangoModelFactory

from core.ids import new_id
from enhancement.models import ImageEnhancementJob
from tests import factories
from tests.factories import (
    AlbumFactory,
    AlbumImageFactory,
    ApiKeyFactory,
    AppFactory,
    DailyViewFactory,
    DataExportFactory,
    EnhancedImageFactory,
    ImageEnhancementJobFactory,
    MonetizationModelFactory,
    RequirementFactory,
    RequirementRevisionFactory,
    StripePaymentFactory,
    SubscriptionFactory,
    SubscriptionPlanFactory,
    TokensPackageFactory,
    TokenTransactionFactory,
    UnpublicationFactory,
    UserFactory,
    UserTokenBalanceFactory,
    VoucherFactory,
    VoucherRedemptionFactory,
    WebhookDeliveryFactory,
)

OUR_APPS = {"accounts", "tokens", "enhancement", "billing", "albums", "vouchers", "platform_apps"}


# --- the second row of a pair that must not exist twice -----------------------------------------
def _duplicate_album_image():
    first = AlbumImageFactory()
    AlbumImageFactory(album=first.album, image=first.image)


def _second_active_unpublication_of_an_album():
    first = UnpublicationFactory(image=None, album=AlbumFactory())
    UnpublicationFactory(image=None, album=first.album)


def _second_active_unpublication_of_an_image():
    first = UnpublicationFactory()
    UnpublicationFactory(image=first.image)


def _second_view_the_same_day():
    first = DailyViewFactory()
    DailyViewFactory(object_id=first.object_id, visitor_key=first.visitor_key, day=first.day)


def _duplicate_redemption():
    first = VoucherRedemptionFactory()
    VoucherRedemptionFactory(voucher=first.voucher, user=first.user)


def _second_balance_for_a_user():
    first = UserTokenBalanceFactory()
    UserTokenBalanceFactory(user=first.user)


def _second_subscription_for_a_user():
    first = SubscriptionFactory()
    SubscriptionFactory(user=first.user)


def _second_revision_of_a_version():
    first = RequirementRevisionFactory()
    RequirementRevisionFactory(requirement=first.requirement, version=first.version)


def _second_export_under_way():
    first = DataExportFactory(status="RUNNING")
    DataExportFactory(user=first.user)


def _app_forked_from_itself():
    app_id = new_id()
    AppFactory(id=app_id, forked_from_id=app_id)


# name -> a function that writes a row breaking exactly that rule (the factories make valid rows:
# each case overrides only what breaks its rule)
CASES = {
    # the public API
    "ApiKey.key_hash": lambda: (
        ApiKeyFactory(key_hash="a" * 64),
        ApiKeyFactory(key_hash="a" * 64),
    ),
    "delivery_once_per_event": lambda: _twice_the_same_delivery(),
    # accounts
    "user_email_ci_unique": lambda: (
        UserFactory(email="Same@Example.com"),
        UserFactory(email="same@example.com"),
    ),
    "User.email": lambda: (
        UserFactory(email="same@example.com"),
        UserFactory(email="same@example.com"),
    ),
    "User.stripe_customer_id": lambda: (
        UserFactory(stripe_customer_id="cus_1"),
        UserFactory(stripe_customer_id="cus_1"),
    ),
    "dataexport_one_active_per_user": lambda: _second_export_under_way(),
    "dataexport_ready_has_file": lambda: DataExportFactory(ready=True, storage_key=""),
    # tokens
    "token_balance_not_negative": lambda: UserTokenBalanceFactory(balance=-1),
    "UserTokenBalance.user": _second_balance_for_a_user,
    "tokentx_balance_after_not_negative": lambda: TokenTransactionFactory(balance_after=-1),
    "tokentx_amount_sign_matches_type": lambda: TokenTransactionFactory(
        type="SPEND_ENHANCEMENT", amount=5
    ),
    "TokenTransaction.idempotency_key": lambda: (
        TokenTransactionFactory(idempotency_key="job:1"),
        TokenTransactionFactory(idempotency_key="job:1"),
    ),
    "package_tokens_positive": lambda: TokensPackageFactory(tokens=0),
    "package_price_not_negative": lambda: TokensPackageFactory(price_usd=Decimal("-0.01")),
    "TokensPackage.stripe_price_id": lambda: (
        TokensPackageFactory(stripe_price_id="p1"),
        TokensPackageFactory(stripe_price_id="p1"),
    ),
    # billing
    "payment_amount_not_negative": lambda: StripePaymentFactory(amount_usd=Decimal("-1.00")),
    "StripePayment.stripe_payment_intent_id": lambda: (
        StripePaymentFactory(stripe_payment_intent_id="pi_1"),
        StripePaymentFactory(stripe_payment_intent_id="pi_1"),
    ),
    "StripePayment.stripe_checkout_session_id": lambda: (
        StripePaymentFactory(stripe_checkout_session_id="cs_1"),
        StripePaymentFactory(stripe_checkout_session_id="cs_1"),
    ),
    "payment_refund_within_amount": lambda: StripePaymentFactory(
        amount_usd=Decimal("2.99"), amount_refunded=Decimal("3.00")
    ),
    "payment_clawback_within_grant": lambda: StripePaymentFactory(
        tokens_granted=10, tokens_clawed_back=11
    ),
    "subscription_period_ordered": lambda: SubscriptionFactory(
        current_period_end=timezone.now() - timedelta(days=60)
    ),
    "subscription_rollover_within_max": lambda: SubscriptionFactory(rollover_tokens=31),
    "Subscription.user": _second_subscription_for_a_user,
    "Subscription.stripe_subscription_id": lambda: (
        SubscriptionFactory(stripe_subscription_id="sub_1"),
        SubscriptionFactory(stripe_subscription_id="sub_1"),
    ),
    "plan_tokens_positive": lambda: SubscriptionPlanFactory(tokens_per_month=0),
    "plan_price_not_negative": lambda: SubscriptionPlanFactory(price_gbp=Decimal("-4.99")),
    "SubscriptionPlan.stripe_price_id": lambda: (
        SubscriptionPlanFactory(stripe_price_id="plan1"),
        SubscriptionPlanFactory(stripe_price_id="plan1"),
    ),
    # enhancement
    "image_dimensions_positive": lambda: EnhancedImageFactory(original_width=0),
    "job_cost_matches_tier": lambda: ImageEnhancementJobFactory(tokens_cost=99),
    "job_retry_count_within_max": lambda: ImageEnhancementJobFactory(retry_count=4, max_retries=3),
    "job_engine_usage_not_negative": lambda: ImageEnhancementJobFactory(
        engine_cost_usd=Decimal("-0.000001")
    ),
    # update(): a FileField turns None into "" on save(), so only an update writes NULL.
    "job_completed_has_result": lambda: ImageEnhancementJob.objects.filter(
        pk=ImageEnhancementJobFactory().pk
    ).update(status="COMPLETED", enhanced_r2_key=None),
    "ImageEnhancementJob.request_key": lambda: (
        ImageEnhancementJobFactory(request_key="k1"),
        ImageEnhancementJobFactory(request_key="k1"),
    ),
    # albums
    "album_shared_has_token": lambda: AlbumFactory(privacy="UNLISTED", share_token=None),
    "Album.share_token": lambda: (
        AlbumFactory(privacy="UNLISTED", share_token="tok"),
        AlbumFactory(privacy="PUBLIC", share_token="tok"),
    ),
    "album_image_unique": _duplicate_album_image,
    "album_private_has_no_link": lambda: AlbumFactory(privacy="PRIVATE", share_token="tok"),
    "album_public_is_open": lambda: AlbumFactory(privacy="PUBLIC", share_password="pbkdf2$x"),
    "unpublication_one_target": lambda: UnpublicationFactory(album=AlbumFactory()),
    "unpublication_has_reason": lambda: UnpublicationFactory(reason=""),
    "unpublication_one_active_per_album": _second_active_unpublication_of_an_album,
    "unpublication_one_active_per_image": _second_active_unpublication_of_an_image,
    "daily_view_once": _second_view_the_same_day,
    # vouchers
    "voucher_uses_within_max": lambda: VoucherFactory(max_uses=5, current_uses=6),
    "voucher_value_positive": lambda: VoucherFactory(value=0),
    "voucher_percentage_at_most_100": lambda: VoucherFactory(type="PERCENTAGE_BONUS", value=101),
    "Voucher.code": lambda: (VoucherFactory(code="WELCOME"), VoucherFactory(code="welcome ")),
    "voucher_redemption_once": _duplicate_redemption,
    # platform apps
    "app_not_forked_from_itself": _app_forked_from_itself,
    "App.domain": lambda: (
        AppFactory(domain="a.example.com"),
        AppFactory(domain="a.example.com"),
    ),
    "app_domain_ci_unique": lambda: (
        AppFactory(domain="a.example.com"),
        AppFactory(domain="A.example.com"),
    ),
    "app_domain_not_blank": lambda: AppFactory(domain=""),
    "app_deleted_exactly_when_deleted_at": lambda: AppFactory(status="DELETED"),
    "requirement_version_positive": lambda: RequirementFactory(version=0),
    "requirement_revision_unique_version": _second_revision_of_a_version,
    "monetization_price_not_negative": lambda: MonetizationModelFactory(
        type="ONE_TIME", price=Decimal("-1")
    ),
    "monetization_subscription_has_interval": lambda: MonetizationModelFactory(
        type="SUBSCRIPTION", subscription_interval=None
    ),
    "monetization_price_set_when_paid": lambda: MonetizationModelFactory(
        type="FREE", price=Decimal("1.00")
    ),
    "monetization_interval_only_for_subscription": lambda: MonetizationModelFactory(
        type="ONE_TIME", subscription_interval="MONTHLY"
    ),
}


def _twice_the_same_delivery():
    first = WebhookDeliveryFactory()
    WebhookDeliveryFactory(
        endpoint=first.endpoint, event_type=first.event_type, job_id=first.job_id
    )


# model -> its factory in tests/factories.py
FACTORIES = {
    candidate._meta.model: candidate
    for candidate in vars(factories).values()
    if isinstance(candidate, type) and issubclass(candidate, DjangoModelFactory)
}


def _our_models() -> list[str]:
    return sorted(
        model._meta.label for model in apps.get_models() if model._meta.app_label in OUR_APPS
    )


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
        ImageEnhancementJobFactory(status="COMPLETED", enhanced_r2_key=None)


# --- the factories the cases rely on: one per model, and a valid row by default ---------------
def test_every_model_has_a_factory():
    made = {model._meta.label for model in FACTORIES}
    assert set(_our_models()) - made == set(), "models without a factory in tests/factories.py"


@pytest.mark.django_db
@pytest.mark.parametrize("label", _our_models())
def test_each_factory_makes_a_valid_row(label):
    model = apps.get_model(label)
    row = FACTORIES[model]()
    row.full_clean()  # every field, unique and constraint check of Django's validation
    assert model.objects.filter(pk=row.pk).exists()
