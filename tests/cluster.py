"""A real `manage.py qcluster` in a subprocess, for tests and benchmarks that kill workers.

The cluster runs in its own session (process group), so `kill_hard` takes out its master, its
workers, monitor and pusher at once, as `kill -9` of a crashed machine would, and `stop` ends
it the gentle way (SIGINT to the group, per STACK.md: SIGTERM to the group can hang).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_cluster(env: dict[str, str], *, log: Path | None = None) -> subprocess.Popen:
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_hard(cluster: subprocess.Popen) -> None:
    """SIGKILL to every process of the cluster: nobody gets to clean up."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(cluster.pid, signal.SIGKILL)
    cluster.wait(timeout=10)


def stop(cluster: subprocess.Popen) -> None:
    if cluster.poll() is not None:
        return
    try:
        os.killpg(cluster.pid, signal.SIGINT)
        cluster.wait(timeout=20)
    except subprocess.TimeoutExpired:
        kill_hard(cluster)
    except ProcessLookupError:
        pass


def wait_for(condition, *, timeout: float, every: float = 0.05, what: str = "a condition"):
    """Poll `condition()` until it returns something truthy; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def cluster_env(*, database_url: str, media_root: str, **extra: str) -> dict[str, str]:
    """The environment of a cluster that works on the test's database and media folder, with
    the ORM broker (no REDIS_URL) and no Stripe or Gemini keys unless `extra` sets them."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "GEMINI_API_KEY", "GEMINI_BASE_URL", "Q_SYNC")
    }
    env.update(
        DATABASE_URL=database_url,
        MEDIA_ROOT=media_root,
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
        Q_LOG_LEVEL="INFO",  # the cluster's log says when it runs and what it does
    )
    env.update(extra)
    return env
