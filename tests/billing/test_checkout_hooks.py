"""The hook by which apps above billing (vouchers) add to a Checkout Session: a trial on a
subscription, metadata, a note on Stripe's page."""

import pytest

from billing import checkout_hooks, payments, subscriptions

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered():
    calls = []

    def provider(checkout):
        calls.append(checkout)
        return checkout_hooks.Extras(
            trial_period_days=10,
            metadata={"from_test": "yes", "user_id": "not-billing's"},
            message="A note.",
        )

    checkout_hooks.register("test-hook", provider)
    yield calls
    checkout_hooks.unregister("test-hook")


def posts(fake):
    return [p for m, path, p in fake.requests if m == "POST" and path == "/v1/checkout/sessions"]


def test_a_subscription_checkout_carries_the_trial_and_metadata(
    fake_stripe, catalogue, user, offered
):
    subscriptions.start_plan_checkout(
        user=user, plan=catalogue["hobby"], success_url="http://t/s", cancel_url="http://t/c"
    )

    (checkout,) = offered
    assert (checkout.user_id, checkout.mode, checkout.item_id) == (
        user.pk,
        checkout_hooks.SUBSCRIPTION,
        catalogue["hobby"].pk,
    )
    (post,) = posts(fake_stripe)
    assert post["subscription_data"]["trial_period_days"] == "10"
    assert post["metadata"]["from_test"] == "yes"
    assert post["subscription_data"]["metadata"]["from_test"] == "yes"
    assert post["metadata"]["user_id"] == user.pk  # billing's own keys win
    assert post["custom_text"]["submit"]["message"] == "A note."


def test_a_pack_checkout_takes_no_trial(fake_stripe, catalogue, user, offered):
    payments.start_pack_checkout(
        user=user, package=catalogue["pro"], success_url="http://t/s", cancel_url="http://t/c"
    )

    (post,) = posts(fake_stripe)
    assert offered[0].mode == checkout_hooks.PAYMENT
    assert "subscription_data" not in post
    assert post["metadata"]["from_test"] == "yes"


def test_a_bad_trial_is_refused_before_stripe_is_called(fake_stripe, catalogue, user):
    checkout_hooks.register("bad", lambda c: checkout_hooks.Extras(trial_period_days=0))
    try:
        with pytest.raises(ValueError):
            subscriptions.start_plan_checkout(
                user=user,
                plan=catalogue["hobby"],
                success_url="http://t/s",
                cancel_url="http://t/c",
            )
    finally:
        checkout_hooks.unregister("bad")
    assert posts(fake_stripe) == []
