from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="tokens.create_balance")
def create_balance_for_new_user(sender, instance, created, raw=False, **kwargs):
    """Every user has exactly one balance row, created with the user."""
    if created and not raw:
        from tokens.models import UserTokenBalance

        UserTokenBalance.objects.get_or_create(user=instance)
