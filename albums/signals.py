"""Albums' guard on enhancement's images: an image staff unpublished stays private until staff
lift it, however its `is_public` is set (the owner's Publish button, the image admin). A
documented hook from the layer above: enhancement never imports albums."""

from django.db.models.signals import pre_save
from django.dispatch import receiver

from albums.models import Unpublication
from enhancement.models import EnhancedImage


@receiver(pre_save, sender=EnhancedImage, dispatch_uid="albums.keep_unpublished_images_private")
def keep_unpublished_images_private(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or not instance.is_public or instance._state.adding:
        return
    if update_fields is not None and "is_public" not in update_fields:
        return
    if Unpublication.objects.filter(image_id=instance.pk, lifted_at__isnull=True).exists():
        instance.is_public = False
