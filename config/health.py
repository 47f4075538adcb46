"""The checks behind /healthz: can we reach the database, the media storage and the job queue?

Each check returns "ok" or "error" and never raises: a health endpoint that crashes tells an
orchestrator less than one that answers 503. Details go to the log, never into the response.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from django.core.files.storage import FileSystemStorage
from django.db import connections

from enhancement.storage import get_storage

logger = logging.getLogger(__name__)

OK = "ok"
ERROR = "error"


def check_database() -> str:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("health: database unreachable")
        return ERROR
    return OK


def check_storage() -> str:
    try:
        storage = get_storage()
        if isinstance(storage, FileSystemStorage):
            # The folder must exist and take a write: create it if missing, write a scrap file.
            location = Path(storage.location)
            location.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=location, prefix=".healthz-"):
                pass
        else:
            # S3/R2: one cheap HEAD on the bucket proves credentials, endpoint and bucket.
            storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
    except Exception:
        logger.exception("health: media storage unusable")
        return ERROR
    return OK


def check_queue() -> str:
    from django_q.brokers import get_broker
    from django_q.brokers.orm import ORM

    try:
        broker = get_broker()
        if isinstance(broker, ORM):
            # The ORM broker's ping() is always True: ask its table instead.
            broker.queue_size()
        elif not broker.ping():
            return ERROR
    except Exception:
        logger.exception("health: job queue unreachable")
        return ERROR
    return OK


def run_checks() -> dict[str, str]:
    results = {
        "database": check_database(),
        "storage": check_storage(),
        "queue": check_queue(),
    }
    status = OK if all(value == OK for value in results.values()) else ERROR
    return {"status": status, **results}
