"""An account's deletion takes its data exports with it: the rows, and their zips in the storage
after the commit (a rolled-back deletion keeps both)."""

from __future__ import annotations

import io

import pytest

from accounts import deletion
from accounts.exports import files
from accounts.models import DataExport
from tests.factories import DataExportFactory, verified_user

pytestmark = pytest.mark.django_db


def stored_export(user) -> DataExport:
    export = DataExportFactory(user=user, ready=True)
    files.save(export.storage_key, io.BytesIO(b"PK\x05\x06" + b"\0" * 18))
    assert files.exists(export.storage_key)
    return export


def test_the_exports_and_their_files_go_with_the_account(django_capture_on_commit_callbacks):
    alice = verified_user("alice@example.com")
    bob = verified_user("bob@example.com")
    hers, his = stored_export(alice), stored_export(bob)

    with django_capture_on_commit_callbacks(execute=True):
        deletion.delete_account(user=alice)

    assert not DataExport.objects.filter(user_id=alice.pk).exists()
    assert not files.exists(hers.storage_key)
    assert DataExport.objects.filter(pk=his.pk).exists() and files.exists(his.storage_key)


def test_a_deletion_rolled_back_keeps_the_export_and_its_file(django_capture_on_commit_callbacks):
    alice = verified_user("alice@example.com")
    export = stored_export(alice)

    def fails(user):
        raise RuntimeError("a step failed")

    deletion.register("test_failing_step", fails, order=950)
    try:
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
            deletion.delete_account(user=alice)
    finally:
        deletion.unregister("test_failing_step")

    alice.refresh_from_db()
    assert alice.is_active and alice.email == "alice@example.com"
    assert DataExport.objects.filter(pk=export.pk).exists() and files.exists(export.storage_key)
