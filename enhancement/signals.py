import logging

from django.db import transaction
from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver

from core.logging import log_event
from enhancement import storage
from enhancement.models import DeletedJob, EnhancedImage, ImageEnhancementJob

logger = logging.getLogger(__name__)


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


@receiver(pre_delete, sender=ImageEnhancementJob, dispatch_uid="enhancement.record_deleted_job")
def record_deleted_job(sender, instance, **kwargs):
    """However a job row goes (with its image, through `delete_job`), it leaves a `DeletedJob`
    for the ledger rows that name it; in the same transaction as the delete."""
    DeletedJob.objects.update_or_create(
        id=instance.pk,
        defaults={
            "user_id": instance.user_id,
            "image_id": instance.image_id,
            "tier": instance.tier,
            "tokens_cost": instance.tokens_cost,
            "status": instance.status,
            "created_at": instance.created_at,
            "engine_cost_usd": instance.engine_cost_usd,
        },
    )


@receiver(post_delete, sender=ImageEnhancementJob, dispatch_uid="enhancement.delete_job_objects")
def delete_job_objects(sender, instance, **kwargs):
    """A deleted job's result and preview go after the commit (and its line is logged then)."""
    prefix = storage.job_prefix(image_id=instance.image_id, job_id=instance.pk)
    keys = [instance.enhanced_r2_key.name, instance.enhanced_preview_r2_key.name]
    transaction.on_commit(lambda: storage.delete_keys(keys), robust=True)
    transaction.on_commit(lambda: storage.delete_prefix(prefix), robust=True)
    log_event(
        logger,
        "job.deleted",
        job_id=instance.pk,
        image_id=instance.image_id,
        user_id=instance.user_id,
        tier=instance.tier,
        status=instance.status,
    )
