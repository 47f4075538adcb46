"""The production set-up on one machine, tried as a new user would (`./scripts/try-production`).

PostgreSQL (a fresh database), Redis (the queue and the cache), an S3-compatible bucket (moto's
server on loopback, standing in for R2) and the processes of `Procfile` run through honcho: two
gunicorn processes on two ports, two workers and a priority worker, with DEBUG off. Then two
people sign in, upload, order enhancements and download the results, each request going to one
web process or the other in turn, and it checks that every job finished once (one task, one
charge, no refund, the priority user's on the priority cluster), that both web processes served
requests and counted rate limits in the one shared cache, that the ledger balances, and that
SIGTERM stops every process cleanly. Exits non-zero on the first thing that is wrong.

Needs PostgreSQL and Redis running: `PG_URL` (default postgres://postgres@127.0.0.1:5432) and
`REDIS_HOST`/`REDIS_PORT` (127.0.0.1:6379; it uses databases 13 and 14 and flushes them).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
PG_URL = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS_HOST = os.environ.get("REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("REDIS_PORT", "6379"))
DB_NAME = "lumen_try_production"
QUEUE_DB, CACHE_DB = 13, 14
PEOPLE = {"ada@example.com": False, "grace@example.com": True}  # e-mail: priority plan?
PASSWORD = "try-production-" + secrets.token_hex(4)
IMAGES_EACH = 3
STEP_TIMEOUT = 240  # seconds for the jobs to finish on a slow machine


STARTED = time.monotonic()


def say(text: str) -> None:
    print(f"\033[1;35m==>\033[0m [{time.monotonic() - STARTED:5.0f} s] {text}", flush=True)


class Failed(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failed(what)
    print(f"    ok  {what}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_pair() -> int:
    """A port p with p and p + 1 both free (honcho gives web.1 p, web.2 p + 1)."""
    for _ in range(50):
        port = free_port()
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise Failed("no two free ports side by side")


def wait_for_port(port: int, *, timeout: float, process=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise Failed(f"a process exited before port {port} opened")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise Failed(f"nothing listens on port {port} after {timeout:.0f} s")


# --- the services ---------------------------------------------------------------------------
def fresh_database() -> str:
    import psycopg
    from psycopg import sql

    try:
        conn = psycopg.connect(f"{PG_URL}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        raise Failed(f"PostgreSQL is not reachable at {PG_URL} ({error}); set PG_URL") from None
    with conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    return f"{PG_URL}/{DB_NAME}"


def flush_redis() -> None:
    """FLUSHDB on the two databases this uses, over Redis's own protocol (no client needed)."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=5) as s:
            for db in (QUEUE_DB, CACHE_DB):
                s.sendall(f"SELECT {db}\r\nFLUSHDB\r\n".encode())
                answer = b""
                while answer.count(b"\r\n") < 2:
                    answer += s.recv(64)
                if answer != b"+OK\r\n+OK\r\n":
                    raise Failed(f"Redis answered {answer!r}")
    except OSError as error:
        raise Failed(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT} ({error})") from None


def marked_processes(marker: str) -> list[int]:
    """Every process started with this run's marker in its environment (honcho starts each of
    its processes in a session of its own, so a process group does not hold them all)."""
    found = []
    needle = f"LUMEN_TRY_PRODUCTION={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def kill_marked(marker: str) -> None:
    for pid in marked_processes(marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def start_s3(port: int, log) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port(port, timeout=30, process=server)
    return server


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="try-access-key",
        aws_secret_access_key="try-secret-key",
        region_name="us-east-1",
    )


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    client = s3_client(endpoint)
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


# --- the app ----------------------------------------------------------------------------------
def manage(env: dict, *args: str) -> str:
    started = time.monotonic()
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise Failed(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    print(f"    ..  manage.py {args[0]} ({time.monotonic() - started:.0f} s)", flush=True)
    return done.stdout + done.stderr


def photo(seed: int) -> bytes:
    """A small photo-like JPEG (a gradient with detail), different for each seed."""
    image = Image.radial_gradient("L").resize((480, 360)).convert("RGB")
    noise = Image.effect_noise((480, 360), 40 + seed).convert("RGB")
    image = Image.blend(image, noise, 0.3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


class Person:
    """Someone using the site in a browser-like session, sending each request to the next web
    process in turn (a round-robin load balancer), with the one session cookie."""

    def __init__(self, email: str, bases: list[str]):
        self.email = email
        self.bases = bases
        self.turn = 0
        self.session = requests.Session()
        self.served_by: dict[str, int] = {base: 0 for base in bases}

    def url(self, path: str) -> str:
        base = self.bases[self.turn % len(self.bases)]
        self.turn += 1
        self.served_by[base] += 1
        return base + path

    def csrf(self, html: str) -> str:
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if not found:
            raise Failed("a form without a CSRF token")
        return found.group(1)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.url(path), timeout=60, allow_redirects=False, **kwargs)

    def post(self, path: str, form_page: str, data: dict, **kwargs) -> requests.Response:
        page = self.get(form_page)
        if page.status_code != 200:
            raise Failed(f"GET {form_page}: {page.status_code}")
        data = {"csrfmiddlewaretoken": self.csrf(page.text), **data}
        url = self.url(path)
        return self.session.post(
            url, data=data, timeout=120, allow_redirects=False, headers={"Referer": url}, **kwargs
        )

    def sign_in(self) -> None:
        response = self.post(
            "/accounts/login/", "/accounts/login/", {"login": self.email, "password": PASSWORD}
        )
        check(response.status_code == 302, f"{self.email} signs in (302)")

    def upload(self, seed: int) -> str:
        files = [("files", (f"photo-{seed}.jpg", photo(seed), "image/jpeg"))]
        response = self.post("/images/upload/", "/images/upload/", {}, files=files)
        if response.status_code != 200:
            raise Failed(f"upload: {response.status_code}")
        ids = re.findall(r'href="/images/([a-z][a-z0-9]{24})/"', response.text)
        if not ids:
            raise Failed("the upload page names no new image")
        return ids[0]

    def order(self, image_id: str) -> None:
        page = self.get(f"/images/{image_id}/")
        key = re.search(r'name="request_key" value="([^"]+)"', page.text)
        data = {
            "csrfmiddlewaretoken": self.csrf(page.text),
            "tier": "TIER_1K",
            "request_key": key.group(1) if key else "",
        }
        url = self.url(f"/images/{image_id}/enhance/")
        response = self.session.post(
            url, data=data, timeout=60, allow_redirects=False, headers={"Referer": url}
        )
        if response.status_code not in (302, 303):
            raise Failed(f"order {image_id}: {response.status_code}")

    def download(self, job_id: str) -> bytes:
        response = self.get(f"/jobs/{job_id}/download/")
        if response.status_code in (302, 303):  # a signed URL of the bucket
            response = requests.get(response.headers["Location"], timeout=60)
        if response.status_code != 200:
            raise Failed(f"download {job_id}: {response.status_code}")
        return response.content


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="lumen-try-production-"))
    logs = work / "logs"
    logs.mkdir()
    s3 = honcho = None
    marker = secrets.token_hex(8)
    try:
        say("Services: a fresh PostgreSQL database, Redis, a loopback S3 bucket")
        database_url = fresh_database()
        flush_redis()
        s3_port = free_port()
        s3 = start_s3(s3_port, (logs / "s3.log").open("w"))
        endpoint = f"http://127.0.0.1:{s3_port}"
        s3_client(endpoint).create_bucket(Bucket="lumen-media")
        web_port = free_port_pair()
        bases = [f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{web_port + 1}"]
        env = {
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "HOME": os.environ.get("HOME", str(work)),
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": bases[0],
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{QUEUE_DB}",
            "CACHE_URL": f"rediscache://{REDIS_HOST}:{REDIS_PORT}/{CACHE_DB}",
            "STORAGE_BUCKET": "lumen-media",
            "STORAGE_ENDPOINT_URL": endpoint,
            "STORAGE_REGION": "us-east-1",
            "STORAGE_ACCESS_KEY_ID": "try-access-key",
            "STORAGE_SECRET_ACCESS_KEY": "try-secret-key",
            "STATIC_ROOT": str(work / "static"),
            # plain HTTP on loopback: no TLS in front of it here
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "HOST": "127.0.0.1",
            "WEB_CONCURRENCY": "2",
            "Q_WORKERS": "1",
            "PYTHONUNBUFFERED": "1",
            "LUMEN_TRY_PRODUCTION": marker,
        }

        say("Release: check --deploy, migrate, seed, collectstatic, two people")
        report = manage(env, "check", "--deploy")
        check("accounts.W00" not in report, "check --deploy: the cache and the queue are shared")
        manage(env, "migrate", "--noinput")
        manage(env, "seed")
        manage(env, "collectstatic", "--noinput")
        for email, priority in PEOPLE.items():
            manage(env, "demo_user", "--email", email, "--password", PASSWORD, "--tokens", "20")
            if priority:
                manage(env, "shell", "-c", GIVE_PRIORITY.replace("EMAIL", email))

        say("Processes (Procfile through honcho): web=2 (gunicorn), worker=2, priority_worker=1")
        empty_env = work / "empty.env"
        empty_env.write_text("")
        honcho_log = (logs / "honcho.log").open("w")
        honcho = subprocess.Popen(
            [
                str(BIN / "honcho"),
                "-f",
                "Procfile",
                "-e",
                str(empty_env),
                "start",
                "-p",
                str(web_port),
                "-c",
                "web=2,worker=2,priority_worker=1",
            ],
            cwd=ROOT,
            env=env,
            stdout=honcho_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for port in (web_port, web_port + 1):
            wait_for_port(port, timeout=90, process=honcho)
        check(True, f"gunicorn answers on {web_port} and {web_port + 1}")
        time.sleep(3)  # the clusters' workers start

        say("Two people upload, order and download, round-robin over both web processes")
        people = [Person(email, bases) for email in PEOPLE]
        first_window = int(time.time() // 60)
        seed = 0
        for person in people:
            person.sign_in()
            for _ in range(IMAGES_EACH):
                seed += 1
                person.order(person.upload(seed))
        check(True, f"{len(people) * IMAGES_EACH} photos uploaded and ordered")
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.cache import cache
        from django.db.models import Count
        from django_q.models import Task

        from enhancement.models import ImageEnhancementJob, JobStatus
        from tokens.models import TokenTransaction, TokenTransactionType

        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            open_jobs = ImageEnhancementJob.objects.exclude(
                status__in=[JobStatus.COMPLETED, JobStatus.REFUNDED]
            ).count()
            if open_jobs == 0:
                break
            if honcho.poll() is not None:
                raise Failed("honcho exited while jobs were open")
            time.sleep(1)
        jobs = list(ImageEnhancementJob.objects.select_related("image__user"))
        check(len(jobs) == len(people) * IMAGES_EACH, f"{len(jobs)} jobs, one per order")
        check(
            all(job.status == JobStatus.COMPLETED for job in jobs),
            "every job COMPLETED: " + ", ".join(sorted({f"{job.status}" for job in jobs})),
        )
        check(all(job.retry_count == 0 for job in jobs), "no job was tried twice")
        spends = dict(
            TokenTransaction.objects.filter(type=TokenTransactionType.SPEND_ENHANCEMENT)
            .values_list("source_id")
            .annotate(n=Count("id"))
        )
        check(
            all(spends.get(str(job.pk)) == 1 for job in jobs),
            "each job charged once",
        )
        check(
            not TokenTransaction.objects.filter(type=TokenTransactionType.REFUND).exists(),
            "no refund",
        )
        tasks = Task.objects.filter(func__endswith="run_enhancement_job")
        runs: dict[str, list[Task]] = {}
        for task in tasks:
            runs.setdefault(str(task.args[0]), []).append(task)
        check(
            all(len(runs.get(str(job.pk), [])) == 1 for job in jobs),
            "each job's task ran once (django-q2's task records)",
        )
        priority_people = {email for email, priority in PEOPLE.items() if priority}
        check(
            all(
                (runs[str(job.pk)][0].cluster == "priority")
                == (job.image.user.email in priority_people)
                for job in jobs
            ),
            "the priority user's jobs ran on the priority cluster, the others' on the default",
        )

        for person in people:
            for job in jobs:
                if job.image.user.email != person.email:
                    continue
                data = person.download(str(job.pk))
                Image.open(io.BytesIO(data)).verify()
        check(True, "every result downloads and decodes, through both web processes")
        for person in people:
            check(
                all(count > 0 for count in person.served_by.values()),
                f"{person.email}: both web processes served ({person.served_by})",
            )
        keys = bucket_keys(endpoint, "lumen-media")
        check(
            sum(key.endswith("/original.jpg") for key in keys) == len(jobs)
            and sum("/enhanced." in key for key in keys) == len(jobs),
            f"the bucket holds every original and result ({len(keys)} objects)",
        )
        windows = range(first_window, int(time.time() // 60) + 1)
        for job in jobs[:1]:
            counted = sum(
                cache.get(f"ratelimit:upload:{job.image.user_id}:{window}") or 0
                for window in windows
            )
            check(
                counted == IMAGES_EACH,
                f"both web processes counted the uploads in the one shared cache ({counted})",
            )
        manage(env, "check_ledger")
        check(True, "check_ledger: every balance equals its ledger")

        say("SIGTERM to the whole set stops every process cleanly")
        os.killpg(honcho.pid, signal.SIGTERM)
        try:
            code = honcho.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise Failed("the processes were still running 60 s after SIGTERM") from None
        honcho = None
        time.sleep(1)
        left = marked_processes(marker)
        check(not left, f"every process ended (honcho exit status {code}); left: {left}")
        log = (logs / "honcho.log").read_text()
        check("Traceback" not in log, "no traceback in any process's output")
        say("The production set-up works on several processes.")
        return 0
    except Exception as failure:  # noqa: BLE001 - any failure: say it, show the logs
        print(f"\033[1;31mFAILED\033[0m {failure!r}", file=sys.stderr)
        for path in sorted(logs.glob("*.log")):
            print(f"--- {path.name} (last 60 lines)", file=sys.stderr)
            print("\n".join(path.read_text().splitlines()[-60:]), file=sys.stderr)
        return 1
    finally:
        kill_marked(marker)
        for process in (honcho, s3):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(work, ignore_errors=True)


# A live subscription to the seeded plan with priority (as Stripe's webhooks would leave it).
GIVE_PRIORITY = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from billing.models import Subscription, SubscriptionPlan, SubscriptionStatus
plan = SubscriptionPlan.objects.filter(priority=True).order_by("price_gbp").first()
now = timezone.now()
Subscription.objects.create(
    user=User.objects.get(email="EMAIL"), stripe_subscription_id="sub_try_production",
    stripe_price_id=plan.stripe_price_id, plan=plan, status=SubscriptionStatus.ACTIVE,
    current_period_start=now, current_period_end=now + timedelta(days=30),
    tokens_per_month=plan.tokens_per_month, max_rollover=plan.max_rollover,
)
"""

if __name__ == "__main__":
    sys.exit(main())
