from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from enhancement import storage
from enhancement.models import EnhancedImage


@receiver(post_delete, sender=EnhancedImage, dispatch_uid="enhancement.delete_image_objects")
def delete_stored_objects(sender, instance, **kwargs):
    """However an image row goes (`delete_image`, the admin, its owner's account deleted), every
    object under its prefix goes too: after the commit, so a rolled-back delete loses nothing."""
    prefixes = [
        storage.image_prefix(image_id=instance.pk),
        storage.legacy_image_prefix(user_id=instance.user_id, image_id=instance.pk),
    ]
    for prefix in prefixes:
        transaction.on_commit(lambda prefix=prefix: storage.delete_prefix(prefix), robust=True)
