"""An export's stored zip follows its row: however the row is deleted (its owner's account,
a newer export replacing it, the admin, a queryset delete), its folder in the storage is
deleted after the commit, so a rolled-back delete loses nothing.

The folder is named by the export's id, not read from the row being deleted: a row loaded
before its worker stored the zip still has the zip's folder deleted."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.exports import files
from accounts.models import DataExport


@receiver(post_delete, sender=DataExport, dispatch_uid="accounts.delete_data_export_file")
def delete_export_file(sender, instance, **kwargs):
    transaction.on_commit(partial(files.delete_folder, instance.pk), robust=True)
