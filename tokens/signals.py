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
