"""Every transition writes only the columns it means to change (`update_fields`), so a job's
tier, cost, owner, image, request key and staff record are never written back by a worker,
a sweeper or a refund that holds an older copy of the row."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enhancement.engines import EngineResult
from enhancement.jobs import ordering, sweeper, transitions
from enhancement.models import ImageEnhancementJob
from tests.images import jpeg_bytes

pytestmark = pytest.mark.django_db

NEVER_WRITTEN = {"tier", "tokens_cost", "user_id", "image_id", "request_key", "created_at"}
TABLE = ImageEnhancementJob._meta.db_table


def written_columns(queries) -> set[str]:
    """The columns set by UPDATEs of the job table among `queries`."""
    columns = set()
    for query in queries:
        sql = query["sql"]
        if not sql.startswith(f'UPDATE "{TABLE}"'):
            continue
        set_clause = sql.split(" SET ", 1)[1].split(" WHERE ", 1)[0]
        columns |= set(re.findall(r'"(\w+)" = ', set_clause))
    return columns


def order(user, image):
    return ordering.order_enhancement(user=user, image=image, tier="TIER_1K", request_key=None)


def test_complete_writes_only_the_result(funded_user, image):
    job = order(funded_user, image)
    transitions.claim_job(job_id=job.pk)
    result = EngineResult(
        data=jpeg_bytes(1024, 768), format="jpeg", width=1024, height=768, prompt=None
    )

    with CaptureQueriesContext(connection) as queries:
        transitions.complete_job(job=job, result=result, engine="local")

    columns = written_columns(queries)
    assert {"status", "enhanced_r2_key", "processing_completed_at"} <= columns
    assert not columns & (NEVER_WRITTEN | {"staff_actions"})


@pytest.mark.parametrize("how", ["failed try", "refund", "cancel", "retry", "sweeper"])
def test_other_transitions_write_only_their_columns(funded_user, image, staff_user, how, settings):
    job = order(funded_user, image)
    claimed = transitions.claim_job(job_id=job.pk)
    if how in ("cancel", "retry"):
        transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=claimed)

    with CaptureQueriesContext(connection) as queries:
        if how == "failed try":
            transitions.fail_job(job_id=job.pk, error=RuntimeError("x"), claimed_at=claimed)
        elif how == "refund":
            transitions.refund_job(job=job, actor=staff_user)
        elif how == "cancel":
            transitions.cancel_job(user=funded_user, job=job)
        elif how == "retry":
            transitions.retry_job(job=job, actor=staff_user)
        else:
            later = claimed + sweeper.lease() + sweeper.lease()
            assert sweeper.recover_stuck_jobs(now=later).as_dict()["recovered"] == 1

    columns = written_columns(queries)
    assert "status" in columns or how == "retry"
    assert not columns & NEVER_WRITTEN
