"""django-q2 entry points of vouchers (safe to run twice)."""

from vouchers import services


def sweep_expired_vouchers() -> int:
    """ACTIVE vouchers past their expiry become EXPIRED (the schedule runs it)."""
    return services.sweep_expired()
