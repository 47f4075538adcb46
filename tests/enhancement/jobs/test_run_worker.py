"""The worker stops cleanly when SIGTERM reaches its whole process group (what systemd, Docker
and honcho send): `manage.py run_worker` runs the cluster in a group of its own and stops it
with the one signal it handles well. Bare `qcluster` hangs there (STACK.md)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.cluster import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


def _kill_all(worker) -> None:
    for pid in [worker.pid, *_children(worker.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    worker.wait(timeout=10)


def _children(pid: int) -> list[int]:
    table = subprocess.run(  # noqa: S603 - a fixed command line
        [shutil.which("ps") or "/bin/ps", "-o", "pid=,ppid=", "-A"], capture_output=True, text=True
    ).stdout.split()
    return [int(table[i]) for i in range(0, len(table), 2) if int(table[i + 1]) == pid]


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_to_the_group_stops_the_worker_and_its_cluster(tmp_path, settings):
    from django.db import connection

    if connection.vendor == "sqlite":
        database = f"sqlite:///{connection.settings_dict['NAME']}"
        if "memory" in database:
            pytest.skip("needs a database file or PostgreSQL that another process can open")
    else:
        s = connection.settings_dict
        database = (
            f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        )
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "MEDIA_ROOT": str(tmp_path),
        "Q_WORKERS": "1",
        "Q_LOG_LEVEL": "INFO",  # its "running" line tells us the cluster is up
    }
    env.pop("REDIS_URL", None)
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--grace", "30"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while b"running" not in log.read_bytes():
                assert worker.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        except BaseException:
            _kill_all(worker)  # a failed start leaves nothing running behind the test
            raise
        table = subprocess.run(  # noqa: S603 - a fixed command line
            [shutil.which("ps") or "/bin/ps", "-o", "pid=,ppid=,pgid=", "-A"],
            capture_output=True,
            text=True,
        ).stdout.split()
        rows = [table[i : i + 3] for i in range(0, len(table), 3)]
        # the cluster's master is the worker's child, in a group of its own
        cluster_groups = {int(pgid) for pid, ppid, pgid in rows if int(ppid) == worker.pid}

        os.killpg(worker.pid, signal.SIGTERM)  # what systemd's default stop sends
        code = worker.wait(timeout=30)

    assert code == 0, log.read_text()[-2000:]
    assert cluster_groups, "the cluster was not found running"
    time.sleep(0.5)
    assert not [g for g in cluster_groups if _alive(g)], "cluster processes were left behind"
