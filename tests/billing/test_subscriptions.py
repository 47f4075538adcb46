"""Monthly plans: the Subscription row follows Stripe through the webhooks, each paid period
grants its tokens once by the rollover rule, upgrades grant the difference at once, downgrades
wait for the next period, and nothing granted is ever taken back by a renewal or a cancellation."""

import pytest

from billing import selectors
from billing.models import Subscription, SubscriptionStatus
from tests.billing.conftest import assert_ledger_balanced
from tokens import services as tokens
from tokens.models import TokenTransaction, TokenTransactionType

pytestmark = pytest.mark.django_db


def balance(user) -> int:
    return tokens.get_balance(user)


def spend(user, amount):
    tokens.spend(user=user, amount=amount, source="enhancement")


def start(fake, owner_client, plan, *, trial_days=0):
    response = owner_client.post(f"/billing/checkout/plan/{plan.pk}/")
    assert response.status_code == 303, response.status_code
    session = fake.pay_checkout(response["Location"].rsplit("/", 1)[1], trial_days=trial_days)
    return session, fake.get(session["subscription"])


def subscribe(fake, webhook, owner_client, plan, *, trial_days=0):
    """Checkout paid, and the events Stripe sends for it, in its usual order."""
    session, subscription = start(fake, owner_client, plan, trial_days=trial_days)
    webhook.deliver(fake.event("checkout.session.completed", session))
    webhook.deliver(fake.event("customer.subscription.created", subscription))
    webhook.deliver(fake.event("invoice.paid", fake.get(subscription["latest_invoice"])))
    return subscription["id"]


def renew(fake, webhook, subscription_id):
    invoice = fake.renew(subscription_id)
    webhook.deliver(fake.event("customer.subscription.updated", fake.get(subscription_id)))
    webhook.deliver(fake.event("invoice.paid", invoice))
    return invoice


def row(user) -> Subscription:
    return Subscription.objects.select_related("plan").get(user=user)


def test_a_life_from_trial_to_cancellation_with_three_paid_invoices(
    fake_stripe, webhook, catalogue, user, owner_client
):
    creator = catalogue["creator"]  # 100 a month, rollover up to 100, priority
    sub_id = subscribe(fake_stripe, webhook, owner_client, creator, trial_days=14)

    trial = row(user)
    assert (trial.status, trial.plan, trial.stripe_subscription_id) == (
        SubscriptionStatus.TRIALING,
        creator,
        sub_id,
    )
    assert balance(user) == 0  # a free trial's invoice grants nothing
    assert selectors.has_priority(user.pk)  # but the plan's benefits hold while trialing

    renew(fake_stripe, webhook, sub_id)  # 1st paid invoice: the first period
    assert (row(user).status, balance(user)) == (SubscriptionStatus.ACTIVE, 100)
    spend(user, 30)

    renew(fake_stripe, webhook, sub_id)  # 2nd: 70 unused, all carried, 100 granted
    assert (row(user).rollover_tokens, balance(user)) == (70, 170)

    renew(fake_stripe, webhook, sub_id)  # 3rd: 170 unused, 100 carried, 30 granted
    assert (row(user).rollover_tokens, balance(user)) == (100, 200)

    cancelling = fake_stripe.cancel_at_period_end(sub_id)
    webhook.deliver(fake_stripe.event("customer.subscription.updated", cancelling))
    assert row(user).cancel_at_period_end and row(user).status == SubscriptionStatus.ACTIVE
    assert selectors.has_priority(user.pk)

    ended = fake_stripe.end_subscription(sub_id)
    webhook.deliver(fake_stripe.event("customer.subscription.deleted", ended))

    assert row(user).status == SubscriptionStatus.CANCELED
    assert not selectors.has_priority(user.pk)
    assert balance(user) == 200  # nothing taken back
    grants = TokenTransaction.objects.filter(user=user, type=TokenTransactionType.EARN_PURCHASE)
    assert sorted(grants.values_list("amount", flat=True)) == [30, 100, 100]
    assert_ledger_balanced()


def test_each_invoice_grants_once_whatever_is_delivered_again(
    fake_stripe, webhook, catalogue, user, owner_client
):
    session, subscription = start(fake_stripe, owner_client, catalogue["hobby"])
    invoice = fake_stripe.get(subscription["latest_invoice"])
    paid = fake_stripe.event("invoice.paid", invoice)

    for _ in range(10):
        webhook.deliver(paid)
    webhook.deliver(fake_stripe.event("invoice.payment_succeeded", invoice))
    webhook.deliver(fake_stripe.event("invoice.paid", invoice))  # a new event, same invoice

    assert balance(user) == 30
    assert TokenTransaction.objects.filter(user=user).count() == 1
    assert_ledger_balanced()


def test_an_invoice_before_its_subscription_and_updated_before_created(
    fake_stripe, webhook, catalogue, user, owner_client
):
    session, subscription = start(fake_stripe, owner_client, catalogue["hobby"])
    created = fake_stripe.event("customer.subscription.created", subscription)
    cancelling = fake_stripe.cancel_at_period_end(subscription["id"])
    updated = fake_stripe.event("customer.subscription.updated", cancelling)

    webhook.deliver(
        fake_stripe.event("invoice.paid", fake_stripe.get(subscription["latest_invoice"]))
    )
    webhook.deliver(updated)
    webhook.deliver(created)
    webhook.deliver(fake_stripe.event("checkout.session.completed", session))

    state = row(user)
    assert (state.status, state.cancel_at_period_end, state.plan) == (
        SubscriptionStatus.ACTIVE,
        True,
        catalogue["hobby"],
    )
    assert balance(user) == 30
    assert_ledger_balanced()


def test_an_upgrade_in_the_middle_of_a_period_grants_the_difference_at_once(
    fake_stripe, webhook, catalogue, user, owner_client
):
    sub_id = subscribe(fake_stripe, webhook, owner_client, catalogue["hobby"])
    assert balance(user) == 30

    upgraded = fake_stripe.change_price(sub_id, catalogue["creator"].stripe_price_id)
    event = fake_stripe.event("customer.subscription.updated", upgraded)
    webhook.deliver(event)
    webhook.deliver(fake_stripe.event("customer.subscription.updated", upgraded))

    assert (row(user).plan, row(user).tokens_per_month, balance(user)) == (
        catalogue["creator"],
        100,
        100,
    )
    assert selectors.has_priority(user.pk)

    renew(fake_stripe, webhook, sub_id)  # the next period is Creator's: 100 unused, 100 carried
    assert (row(user).rollover_tokens, balance(user)) == (100, 200)
    assert_ledger_balanced()


def test_a_downgrade_takes_effect_at_the_next_period(
    fake_stripe, webhook, catalogue, user, owner_client
):
    sub_id = subscribe(fake_stripe, webhook, owner_client, catalogue["creator"])
    spend(user, 40)

    downgraded = fake_stripe.change_price(sub_id, catalogue["hobby"].stripe_price_id)
    webhook.deliver(fake_stripe.event("customer.subscription.updated", downgraded))

    now = row(user)
    assert (now.plan, now.tokens_per_month, balance(user)) == (catalogue["hobby"], 100, 60)

    renew(fake_stripe, webhook, sub_id)
    # the ending period's allowance was Creator's 100: 60 unused, Hobby carries 30 of them and
    # grants 30 - (60 - 30) = 0; nothing is taken back
    after = row(user)
    assert (after.tokens_per_month, after.rollover_tokens, after.max_rollover) == (30, 30, 30)
    assert balance(user) == 60
    assert_ledger_balanced()


def test_a_missed_renewal_grants_nothing_until_it_is_paid(
    fake_stripe, webhook, catalogue, user, owner_client
):
    sub_id = subscribe(fake_stripe, webhook, owner_client, catalogue["creator"])
    spend(user, 100)

    failed = fake_stripe.fail_renewal(sub_id)
    webhook.deliver(fake_stripe.event("invoice.payment_failed", failed))
    webhook.deliver(fake_stripe.event("customer.subscription.updated", fake_stripe.get(sub_id)))

    assert row(user).status == SubscriptionStatus.PAST_DUE
    assert not selectors.has_priority(user.pk)
    assert balance(user) == 0

    paid = fake_stripe.pay_invoice(failed["id"])
    webhook.deliver(fake_stripe.event("invoice.paid", paid))
    webhook.deliver(fake_stripe.event("customer.subscription.updated", fake_stripe.get(sub_id)))

    assert row(user).status == SubscriptionStatus.ACTIVE
    assert balance(user) == 100
    assert_ledger_balanced()


def test_statuses_that_give_no_benefits(fake_stripe, webhook, catalogue, user, owner_client):
    sub_id = subscribe(fake_stripe, webhook, owner_client, catalogue["studio"])
    assert selectors.has_priority(user.pk) and selectors.has_api_access(user.pk)
    for status in ("past_due", "unpaid", "incomplete", "paused"):
        changed = fake_stripe.set_subscription_status(sub_id, status)
        webhook.deliver(fake_stripe.event("customer.subscription.updated", changed))
        assert not selectors.has_priority(user.pk), status
        assert not selectors.has_api_access(user.pk), status
        assert selectors.priority_user_ids([user.pk]) == set()
    resumed = fake_stripe.set_subscription_status(sub_id, "active")
    webhook.deliver(fake_stripe.event("customer.subscription.resumed", resumed))
    assert selectors.priority_user_ids([user.pk, "someone-else"]) == {user.pk}


def test_a_new_subscription_after_a_cancelled_one_starts_afresh(
    fake_stripe, webhook, catalogue, user, owner_client
):
    first = subscribe(fake_stripe, webhook, owner_client, catalogue["creator"])
    webhook.deliver(
        fake_stripe.event("customer.subscription.deleted", fake_stripe.end_subscription(first))
    )

    second = subscribe(fake_stripe, webhook, owner_client, catalogue["hobby"])
    # a late event of the old subscription changes nothing
    webhook.deliver(fake_stripe.event("customer.subscription.updated", fake_stripe.get(first)))

    state = row(user)
    assert (state.stripe_subscription_id, state.plan, state.status) == (
        second,
        catalogue["hobby"],
        SubscriptionStatus.ACTIVE,
    )
    assert (state.tokens_per_month, state.rollover_tokens) == (30, 0)
    assert balance(user) == 130
    assert Subscription.objects.count() == 1
    assert_ledger_balanced()


def test_a_second_plan_is_refused_while_one_is_live(
    fake_stripe, webhook, catalogue, user, owner_client
):
    subscribe(fake_stripe, webhook, owner_client, catalogue["hobby"])

    response = owner_client.post(f"/billing/checkout/plan/{catalogue['studio'].pk}/", follow=True)

    assert "You already have the Hobby plan" in response.content.decode()
    assert len(fake_stripe.of("checkout.session")) == 1


def test_a_plan_whose_price_changed_keeps_its_subscribers_benefits(
    fake_stripe, webhook, catalogue, user, owner_client
):
    from django.core.management import call_command

    creator = catalogue["creator"]
    sub_id = subscribe(fake_stripe, webhook, owner_client, creator)
    old_price = creator.stripe_price_id
    creator.price_gbp = "14.99"
    creator.save()
    call_command("stripe_catalogue", stdout=__import__("io").StringIO())
    creator.refresh_from_db()
    assert creator.stripe_price_id != old_price

    webhook.deliver(fake_stripe.event("customer.subscription.updated", fake_stripe.get(sub_id)))
    renew(fake_stripe, webhook, sub_id)

    assert row(user).plan == creator and row(user).stripe_price_id == old_price
    assert selectors.has_priority(user.pk)
    assert balance(user) == 200
