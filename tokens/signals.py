from allauth.account.signals import email_confirmed, user_signed_up
from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from tokens.sources import SIGNUP_SOURCE


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="tokens.create_balance")
def create_balance_for_new_user(sender, instance, created, raw=False, **kwargs):
    """Every user has exactly one balance row, created with the user (its regeneration clock
    starts now). With `TOKEN_SIGNUP_BALANCE` > 0 the welcome tokens are an EARN_BONUS
    transaction, so the ledger still adds up."""
    if created and not raw:
        from tokens import services
        from tokens.models import TokenTransactionType, UserTokenBalance

        UserTokenBalance.objects.get_or_create(user=instance)
        if settings.TOKEN_SIGNUP_BALANCE > 0:
            services.grant(
                user=instance,
                amount=settings.TOKEN_SIGNUP_BALANCE,
                type=TokenTransactionType.EARN_BONUS,
                source=SIGNUP_SOURCE,
                source_id=instance.pk,
                idempotency_key=f"signup:{instance.pk}",
            )


@receiver(email_confirmed, dispatch_uid="tokens.welcome_on_email_confirmed")
def welcome_on_email_confirmed(sender, request, email_address, **kwargs):
    """A verified address earns the welcome tokens (once per address, ever)."""
    from tokens import services

    services.grant_welcome(user=email_address.user, email=email_address.email)


@receiver(user_signed_up, dispatch_uid="tokens.welcome_on_verified_signup")
def welcome_on_verified_signup(sender, request, user, **kwargs):
    """A sign-up whose address is verified already (a provider that vouches for it, or
    verification turned off) earns them too; unverified ones wait for `email_confirmed`."""
    from allauth.account.models import EmailAddress

    from tokens import services

    for address in EmailAddress.objects.filter(user=user, verified=True):
        services.grant_welcome(user=user, email=address.email)
