"""manage.py run_worker: a django-q2 cluster that stops cleanly on SIGTERM.

django-q2's `qcluster` hangs when SIGTERM reaches its whole process group (what systemd,
Docker, honcho and most platforms send): its workers die under the master, which then waits
for them for ever (STACK.md; seen on 1.11.1). This command runs `qcluster` as a child in a
process group of its own, so a signal to *our* group reaches only us, and turns SIGTERM,
SIGINT or SIGHUP into one SIGINT to the cluster's master, the signal it stops on in about a
second, finishing the task in hand. If the cluster has not stopped after
`--grace` seconds it is killed (a task it was running is taken back by the sweeper, see
enhancement.jobs.sweeper).

    manage.py run_worker                     # the default cluster
    Q_CLUSTER_NAME=priority manage.py run_worker

The exit status is the cluster's (0 after a requested stop).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a django-q2 cluster (qcluster) that stops cleanly on SIGTERM to its group."

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace", type=float, default=60.0, help="seconds to wait for a clean stop"
        )

    def handle(self, *args, grace: float, **options):
        cluster = subprocess.Popen(  # noqa: S603 - our own manage.py, no shell
            [sys.executable, sys.argv[0], "qcluster"],
            start_new_session=True,  # its own group: the signals sent to ours stay with us
        )
        stopping = {"at": None}

        def stop(signum, _frame):
            if stopping["at"] is None:
                stopping["at"] = time.monotonic()
                self.stderr.write(
                    f"run_worker: {signal.Signals(signum).name}, stopping the cluster"
                )
                with contextlib.suppress(ProcessLookupError):
                    os.kill(cluster.pid, signal.SIGINT)

        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, stop)

        while True:
            try:
                code = cluster.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stopping["at"] is not None and time.monotonic() - stopping["at"] > grace:
                    self.stderr.write("run_worker: the cluster did not stop in time; killing it")
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(cluster.pid, signal.SIGKILL)
        # Whatever the master left behind in its group (it should be nothing).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(cluster.pid, signal.SIGKILL)
        if stopping["at"] is not None and code in (0, -signal.SIGINT, 130):
            code = 0
        sys.exit(code)
