"""Subscription housekeeping: a renewal whose webhooks never arrived is caught up by
`sync_overdue` (the hourly schedule and `manage.py sync_subscriptions`), once, whichever of it,
the late webhook or another run gets there first."""

import datetime as dt
import io

import pytest
import stripe
from django.core.management import CommandError, call_command

from billing import subscriptions, tasks
from billing.models import Subscription, SubscriptionStatus
from tests.billing.test_subscriptions import balance, row, spend, subscribe
from tests.tokens.test_concurrency import run_together
from tokens.models import TokenTransaction

pytestmark = pytest.mark.django_db


def invoice_grants(user) -> list[str]:
    return sorted(
        TokenTransaction.objects.filter(
            user=user, idempotency_key__startswith="stripe:invoice:"
        ).values_list("idempotency_key", flat=True)
    )


def after_period(user, hours=3) -> dt.datetime:
    return row(user).current_period_end + dt.timedelta(hours=hours)


def test_a_missed_renewal_is_granted_once_and_the_late_webhook_grants_nothing(
    fake_stripe, webhook, catalogue, user, owner_client
):
    creator = catalogue["creator"]  # 100 a month, rollover up to 100
    sub_id = subscribe(fake_stripe, webhook, owner_client, creator)
    assert balance(user) == 100
    invoice = fake_stripe.renew(sub_id)  # Stripe renews; its webhooks never reach us
    old_end = row(user).current_period_end

    assert subscriptions.overdue(now=old_end).count() == 0  # not before the grace period
    run = subscriptions.sync_overdue(now=old_end + dt.timedelta(hours=3))

    assert (run.checked, run.caught_up, run.failed) == (1, 1, [])
    assert row(user).current_period_start == old_end
    assert balance(user) == 200  # 100 carried (the cap) + 100 of the new period
    assert invoice_grants(user)[-1] == f"stripe:invoice:{invoice['id']}"

    webhook.deliver(fake_stripe.event("invoice.paid", invoice))  # late, after all
    rerun = subscriptions.sync_overdue(now=old_end + dt.timedelta(hours=4))

    assert (rerun.checked, rerun.caught_up) == (0, 0)  # its period is current now
    assert balance(user) == 200
    assert len(invoice_grants(user)) == 2


def test_two_missed_renewals_grant_in_order_by_the_rollover_rule(
    fake_stripe, webhook, catalogue, user, owner_client
):
    creator = catalogue["creator"]
    sub_id = subscribe(fake_stripe, webhook, owner_client, creator)
    spend(user, 100)  # all spent: each renewal grants the full 100, in order
    first_end = row(user).current_period_end
    fake_stripe.renew(sub_id)
    fake_stripe.renew(sub_id)

    run = subscriptions.sync_overdue(now=first_end + dt.timedelta(days=31))

    assert (run.checked, run.caught_up) == (1, 1)
    assert len(invoice_grants(user)) == 3
    # the older period first: 100 granted, all unused; then the newer one carries those 100
    # and grants its own 100 (newest first would have granted 100 once and skipped the other)
    assert balance(user) == 200
    assert row(user).rollover_tokens == 100
    assert row(user).current_period_start == first_end + dt.timedelta(days=30)


def test_a_subscription_that_ended_unseen_is_followed_and_grants_nothing(
    fake_stripe, webhook, catalogue, user, owner_client
):
    sub_id = subscribe(fake_stripe, webhook, owner_client, catalogue["creator"])
    fake_stripe.end_subscription(sub_id)

    run = subscriptions.sync_overdue(now=after_period(user))

    assert (run.checked, run.caught_up) == (1, 0)
    assert row(user).status == SubscriptionStatus.CANCELED
    assert balance(user) == 100


def test_the_command_prints_one_line_and_the_schedule_does_the_same(
    fake_stripe, webhook, catalogue, user, owner_client
):
    sub_id = subscribe(fake_stripe, webhook, owner_client, catalogue["creator"])
    fake_stripe.renew(sub_id)
    # the row's period as if it ended a day ago (the command reads the clock)
    start = row(user).current_period_start
    Subscription.objects.filter(user=user).update(
        current_period_start=start - dt.timedelta(days=31),
        current_period_end=start - dt.timedelta(days=1),
    )
    out = io.StringIO()

    call_command("sync_subscriptions", stdout=out)

    assert out.getvalue() == ("sync_subscriptions: 1 overdue subscription checked, 1 caught up\n")
    assert balance(user) == 200
    assert tasks.sync_overdue_subscriptions() == "0 checked, 0 caught up"


def test_stripe_down_fails_the_command_and_grants_nothing(
    fake_stripe, webhook, catalogue, user, owner_client, monkeypatch
):
    sub_id = subscribe(fake_stripe, webhook, owner_client, catalogue["creator"])
    fake_stripe.renew(sub_id)
    start = row(user).current_period_start
    Subscription.objects.filter(user=user).update(
        current_period_start=start - dt.timedelta(days=31),
        current_period_end=start - dt.timedelta(days=1),
    )
    monkeypatch.setattr(stripe, "api_base", "http://127.0.0.1:9")  # nothing listens there

    with pytest.raises(CommandError, match=f"Stripe did not answer for {sub_id}"):
        call_command("sync_subscriptions", stdout=io.StringIO())
    with pytest.raises(RuntimeError, match="1 subscription"):
        tasks.sync_overdue_subscriptions()

    assert balance(user) == 100
    assert len(invoice_grants(user)) == 1


def test_without_stripe_configured_the_command_fails_only_when_there_is_work(
    settings, fake_stripe, webhook, catalogue, user, owner_client
):
    out = io.StringIO()
    settings.STRIPE_SECRET_KEY = ""
    call_command("sync_subscriptions", stdout=out)  # nothing overdue: nothing to ask Stripe
    assert "0 overdue subscriptions checked" in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_runs_and_the_webhook_at_the_same_time_grant_once(
    fake_stripe, webhook, catalogue, user, owner_client
):
    from tests.billing.test_concurrency import post_at_once

    sub_id = subscribe(fake_stripe, webhook, owner_client, catalogue["creator"])
    invoice = fake_stripe.renew(sub_id)
    when = after_period(user)
    event = fake_stripe.event("invoice.paid", invoice)

    def work(i):
        if i < 4:
            return subscriptions.sync_overdue(now=when).failed
        return post_at_once(webhook, [event])[0]

    results = run_together(6, work)

    assert all(result in ([], 200) for result in results), results
    assert balance(user) == 200
    assert len(invoice_grants(user)) == 2


def test_the_migration_leaves_one_hourly_schedule_of_a_real_function():
    import importlib

    from django.apps import apps as django_apps
    from django.utils.module_loading import import_string
    from django_q.models import Schedule

    migration = importlib.import_module("billing.migrations.0004_subscription_sync_schedule")
    migration.create_schedule(django_apps, None)
    migration.create_schedule(django_apps, None)

    schedule = Schedule.objects.get(name=migration.SCHEDULE_NAME)
    assert (schedule.schedule_type, schedule.repeats) == (Schedule.HOURLY, -1)
    assert import_string(schedule.func) is tasks.sync_overdue_subscriptions
