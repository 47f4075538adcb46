"""The worker stops cleanly when SIGTERM reaches its whole process group (what systemd, Docker
and honcho send): `manage.py run_worker` runs the cluster in a group of its own and stops it
with the one signal it handles well. Bare `qcluster` hangs there (STACK.md)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.cluster import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


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
    env = {**os.environ, "DATABASE_URL": database, "MEDIA_ROOT": str(tmp_path), "Q_WORKERS": "1"}
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
        deadline = time.monotonic() + 60
        while b"running" not in log.read_bytes():
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        cluster_groups = {
            int(line.split()[0])
            for line in subprocess.run(  # noqa: S603 - a fixed command line
                [shutil.which("ps") or "/bin/ps", "-o", "pgid=,args=", "-A"],
                capture_output=True,
                text=True,
            ).stdout.splitlines()
            if "qcluster" in line
        } - {worker.pid}

        os.killpg(worker.pid, signal.SIGTERM)  # what systemd's default stop sends
        code = worker.wait(timeout=30)

    assert code == 0, log.read_text()[-2000:]
    assert cluster_groups, "the cluster was not found running"
    time.sleep(0.5)
    assert not [g for g in cluster_groups if _alive(g)], "cluster processes were left behind"
