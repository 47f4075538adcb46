"""Keeps `User.email_verified` in step with allauth's email addresses.

allauth records verification on its own `EmailAddress` rows (a confirmed link, a provider that
vouches for the address, the admin). The schema's `User.emailVerified` mirrors that for the
user's current address: the time it was first seen verified, or empty while it is not.
"""

from allauth.account.models import EmailAddress
from allauth.account.signals import email_changed
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import User


def sync_email_verified(user: User) -> None:
    """Set or clear `user.email_verified` from the verification of the user's own address."""
    verified = bool(user.email) and (
        EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()
    )
    if verified and user.email_verified is None:
        value = timezone.now()
    elif not verified and user.email_verified is not None:
        value = None
    else:
        return
    # A queryset update: no save() of the whole user, so nothing else it holds is overwritten.
    User.objects.filter(pk=user.pk).update(email_verified=value)
    user.email_verified = value


@receiver(post_save, sender=EmailAddress, dispatch_uid="accounts.email_address_saved")
def email_address_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        sync_email_verified(instance.user)


@receiver(email_changed, dispatch_uid="accounts.primary_email_changed")
def primary_email_changed(sender, user, **kwargs):
    user.refresh_from_db(fields=["email", "email_verified"])
    sync_email_verified(user)
