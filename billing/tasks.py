"""What billing's django-q2 schedules run."""

from billing import subscriptions


def sync_overdue_subscriptions() -> str:
    """The hourly schedule beside `manage.py sync_subscriptions`: catch up on missed renewals.
    Raises when Stripe did not answer for one of them, so django-q2 records a failure."""
    run = subscriptions.sync_overdue()
    if run.failed:
        raise RuntimeError(f"Stripe did not answer for {len(run.failed)} subscription(s)")
    return f"{run.checked} checked, {run.caught_up} caught up"
