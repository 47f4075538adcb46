"""What an account's deletion asks of enhancement (registered in `EnhancementConfig.ready()`
with `accounts.deletion`): every image of the user with its derivatives, jobs and results, the
API keys and webhook endpoints. Runs inside the deletion's transaction; the stored objects go
after the commit (`enhancement.signals`), so a rolled-back deletion loses no file.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Count

from accounts.deletion import DeletionBlocked, Summary
from core.text import plural
from enhancement.images import services as images
from enhancement.images.services import UNFINISHED_JOB_STATUSES
from enhancement.jobs import transitions
from enhancement.models import ApiKey, EnhancedImage, ImageEnhancementJob, WebhookEndpoint

ACCOUNT_DELETED_MESSAGE = "Refunded: the account was deleted before the enhancement finished."
BUSY_MESSAGE = (
    "An enhancement started while your account was being deleted, so nothing has been deleted. "
    "Please try again."
)


def delete_everything_of(user: AbstractBaseUser) -> None:
    """Unfinished jobs first, each refunded through `transitions.delete_job` (its tokens come
    back to the ledger, a `DeletedJob` stays for the ledger's rows to point at); then every
    image through `images.delete_image`, its finished jobs with it (each leaving a
    `DeletedJob`); then the API keys and webhook endpoints. A worker still running one of the
    jobs finds it gone and throws its result away (`transitions.complete_job`). Raises
    `DeletionBlocked` if a job was ordered meanwhile (the whole deletion is rolled back)."""
    unfinished = ImageEnhancementJob.objects.filter(
        user=user, status__in=UNFINISHED_JOB_STATUSES
    ).order_by("created_at", "pk")
    for job in unfinished:
        transitions.delete_job(job=job, reason=ACCOUNT_DELETED_MESSAGE)
    for image in EnhancedImage.objects.filter(user=user).order_by("created_at", "pk"):
        try:
            images.delete_image(image=image)
        except images.ImageBusy as error:
            raise DeletionBlocked(BUSY_MESSAGE) from error
    WebhookEndpoint.objects.filter(user=user).delete()  # their deliveries go with them
    ApiKey.objects.filter(user=user).delete()


def summary(user: AbstractBaseUser) -> Summary:
    counts = EnhancedImage.objects.filter(user=user).aggregate(
        images=Count("pk", distinct=True), jobs=Count("enhancement_jobs", distinct=True)
    )
    deleted = []
    if counts["images"]:
        text = f"{plural(counts['images'], 'photo')} as uploaded, with their previews"
        if counts["jobs"]:
            text += f" and {plural(counts['jobs'], 'enhancement')} (results included)"
        deleted.append(text)
    unfinished = ImageEnhancementJob.objects.filter(
        user=user, status__in=UNFINISHED_JOB_STATUSES
    ).count()
    if unfinished:
        deleted.append(
            f"{plural(unfinished, 'enhancement')} still under way: stopped, tokens refunded"
        )
    keys = ApiKey.objects.filter(user=user).count()
    hooks = WebhookEndpoint.objects.filter(user=user).count()
    if keys or hooks:
        deleted.append(f"{plural(keys, 'API key')} and {plural(hooks, 'webhook')}")
    return Summary(deleted=deleted)
