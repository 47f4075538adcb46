"""Enhancement jobs per minute through the django-q2 queue, from submission to COMPLETED.

    uv run python bench/job_queue.py                          # a throwaway SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ie uv run python bench/job_queue.py
    ... bench/job_queue.py --jobs 40 --tier 1K --size 1600x1200 --workers 2

It never touches the database named in DATABASE_URL: on PostgreSQL it creates `ie_bench_queue`
on the same server (dropped at the end), otherwise a SQLite file in a temporary folder; media go
to a temporary folder too. The engine is the local Pillow engine (GEMINI_API_KEY is cleared).

Two measurements of the same N jobs (N images of the same photo, one job each, ordered through
`enhancement.jobs.ordering.order_enhancement`, the service the order form uses):

- inline: django-q2 in sync mode, in this one process: each order runs its job right after
  its commit. The time of doing the work with no queue at all.
- queue: a real `manage.py qcluster` subprocess with W workers (ORM broker, or Redis when
  REDIS_URL is set). The cluster is warmed up with one job first; then the clock runs from the
  first submission until every job is COMPLETED (polled in the database every 50 ms).

It prints jobs per minute for both and the latency of each queued job (order to completed).
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and this file is named like the
# standard library's `queue` (which Django's imports need): take the folder off the path. None
# of the imports above imports `queue`.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scratch import close_connections, redact, run, throwaway_database  # noqa: E402

BENCH_DB = "ie_bench_queue"
TIERS = {"1K": "TIER_1K", "2K": "TIER_2K", "4K": "TIER_4K"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=40, help="jobs per measurement")
    parser.add_argument("--tier", choices=list(TIERS), default="1K")
    parser.add_argument("--size", default="1600x1200", help="the original photo, WxH")
    parser.add_argument("--workers", type=int, default=2, help="qcluster workers")
    parser.add_argument("--timeout", type=float, default=600, help="give up after (seconds)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-queue-") as folder:
        database_url, drop = throwaway_database(Path(folder), BENCH_DB)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(Path(folder) / "media"),
            "GEMINI_API_KEY": "",
            "Q_WORKERS": str(args.workers),
            "Q_SYNC": "false",
            "LOG_LEVEL": "WARNING",
        }
        try:
            print(f"Database: {redact(database_url)} (migrating...)", flush=True)
            run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
            os.environ.update(env)
            import django

            django.setup()
            measure(args, env)
        finally:
            close_connections()
            drop()


def measure(args, env) -> None:
    from django.conf import settings
    from django.db import connection
    from PIL import __version__ as pillow_version

    from enhancement.engines import target_size

    tier = TIERS[args.tier]
    width, height = (int(n) for n in args.size.lower().split("x"))
    result = target_size(width, height, settings.ENHANCEMENT_TIERS[tier]["max_dimension"])
    broker = "Redis" if settings.REDIS_URL else f"ORM ({connection.vendor})"
    print(
        f"Python {sys.version.split()[0]}, Pillow {pillow_version}, {os.cpu_count()} CPUs, "
        f"broker {broker}, local engine, {args.jobs} jobs of {width}x{height} -> "
        f"{args.tier} ({result[0]}x{result[1]})",
        flush=True,
    )
    user = bench_user(tokens_needed=(2 * args.jobs + 1) * 10)
    photo = make_photo(width, height)

    # Inline: django-q2 sync mode, this process, one job after another.
    from django_q.conf import Conf

    Conf.SYNC = True
    images = [bench_image(user, photo, n) for n in range(args.jobs)]
    started = time.perf_counter()
    inline_jobs = [order(user, image, tier) for image in images]
    inline_s = time.perf_counter() - started
    check_all_completed(inline_jobs)
    Conf.SYNC = False

    # The queue: a real cluster in another process.
    images = [bench_image(user, photo, args.jobs + n) for n in range(args.jobs)]
    warmup_image = bench_image(user, photo, 2 * args.jobs)
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, stopped as a whole below
    )
    try:
        warmup = [order(user, warmup_image, tier)]
        wait_completed(warmup, timeout=args.timeout, cluster=cluster)
        started = time.perf_counter()
        queued = [order(user, image, tier) for image in images]
        submitted_s = time.perf_counter() - started
        wait_completed(queued, timeout=args.timeout, cluster=cluster)
        queue_s = time.perf_counter() - started
    finally:
        stop(cluster)
    latencies = job_latencies(queued)

    print()
    print(f"{'run':<32} {'seconds':>8} {'jobs/min':>9}")
    print(f"{'inline (sync, 1 process)':<32} {inline_s:8.2f} {60 * args.jobs / inline_s:9.1f}")
    label = f"queue (qcluster, {args.workers} workers)"
    print(f"{label:<32} {queue_s:8.2f} {60 * args.jobs / queue_s:9.1f}")
    print(
        f"speed-up {inline_s / queue_s:.2f}x; submitting the {args.jobs} orders took "
        f"{submitted_s:.2f} s; queued job latency (order -> COMPLETED): "
        f"median {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s"
    )


# --- jobs -------------------------------------------------------------------------------------
def order(user, image, tier):
    from enhancement.jobs import ordering

    return ordering.order_enhancement(user=user, image=image, tier=tier, request_key=None)


def check_all_completed(jobs_) -> None:
    from enhancement.models import ImageEnhancementJob, JobStatus

    statuses = set(
        ImageEnhancementJob.objects.filter(pk__in=[j.pk for j in jobs_]).values_list(
            "status", flat=True
        )
    )
    if statuses != {JobStatus.COMPLETED}:
        raise SystemExit(f"jobs did not all complete: {statuses}")


def wait_completed(jobs_, *, timeout: float, cluster) -> None:
    from django.db import close_old_connections
    from django.db.models import Count

    from enhancement.models import ImageEnhancementJob, JobStatus

    ids = [j.pk for j in jobs_]
    deadline = time.monotonic() + timeout
    while True:
        close_old_connections()
        counts = dict(
            ImageEnhancementJob.objects.filter(pk__in=ids)
            .values_list("status")
            .annotate(n=Count("id"))
        )
        if counts.get(JobStatus.COMPLETED, 0) == len(ids):
            return
        if counts.get(JobStatus.REFUNDED):
            raise SystemExit(f"some jobs failed: {counts}")
        if cluster.poll() is not None:
            raise SystemExit(f"qcluster exited:\n{cluster.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for the jobs: {counts}")
        time.sleep(0.05)


def job_latencies(jobs_) -> list[float]:
    from enhancement.models import ImageEnhancementJob

    rows = ImageEnhancementJob.objects.filter(pk__in=[j.pk for j in jobs_]).values_list(
        "created_at", "processing_completed_at"
    )
    return [(done - created).total_seconds() for created, done in rows]


def bench_user(*, tokens_needed: int):
    from django.contrib.auth import get_user_model

    from tokens import services as tokens
    from tokens.models import TokenTransactionType

    user = get_user_model().objects.create_user(email="bench@example.com", password=None)
    tokens.grant(
        user=user,
        amount=tokens_needed,
        type=TokenTransactionType.EARN_BONUS,
        source="bench",
        idempotency_key="bench-grant",
    )
    return user


def bench_image(user, photo: bytes, n: int):
    from django.conf import settings

    from core.ids import new_id
    from enhancement import imaging, storage
    from enhancement.models import EnhancedImage

    image_id = new_id()
    original = storage.save_bytes(
        storage.original_key(image_id=image_id, extension="jpg"),
        photo,
        content_type="image/jpeg",
    )
    preview, _, _ = imaging.make_derivative(photo, max_dimension=settings.DERIVATIVE_PREVIEW_MAX)
    preview_key = storage.save_bytes(
        storage.preview_key(image_id=image_id), preview, content_type="image/webp"
    )
    from PIL import Image

    with Image.open(io.BytesIO(photo)) as opened:
        width, height = opened.size
    return EnhancedImage.objects.create(
        id=image_id,
        user=user,
        name=f"bench {n}",
        original_r2_key=original,
        preview_r2_key=preview_key,
        original_width=width,
        original_height=height,
        original_size_bytes=len(photo),
        original_format="jpeg",
    )


def make_photo(width: int, height: int) -> bytes:
    """A photo-like JPEG: smooth gradients plus fine noise (so the encoder has real work)."""
    from PIL import Image, ImageFilter

    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize((width, height)),
            Image.linear_gradient("L").rotate(90).resize((width, height)),
            Image.radial_gradient("L").resize((width, height)),
        ),
    )
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    photo = Image.blend(base, noise, 0.15).filter(ImageFilter.SMOOTH)
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


# --- processes and databases --------------------------------------------------------------------


def stop(cluster: subprocess.Popen) -> None:
    """Stop the cluster we started: SIGTERM to its main process (which stops its workers; a
    signal to the whole group would kill them under it and leave it waiting), then SIGKILL to
    its process group (its own session) if it has not stopped within 30 s."""
    if cluster.poll() is not None:
        return
    try:
        cluster.send_signal(signal.SIGTERM)
        cluster.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait(timeout=10)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    main()
