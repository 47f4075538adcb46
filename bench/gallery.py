"""Benchmark of the public pages of albums under load: the gallery's first and 400th pages, an
album page and a shared album's page, beside a trivial view served by the same server.

    apt-get install -y wrk          # the load generator (Debian's package)
    .venv/bin/python bench/gallery.py [--duration 15] [--connections 4] [--keep-db]
                                      [--reuse-db] [--page-cache-seconds 0]

1. A throw-away PostgreSQL database `ie_bench_gallery` (dropped first if it is there, dropped
   at the end unless --keep-db; --reuse-db skips the migration and the seeding of a kept one)
   gets 10,000 public images of 200 people (a third of them enhanced) and 1,000 albums of ten
   images each (700 public, 300 shared by link), written with bulk_create: rows with made-up
   storage keys, no files (the pages only sign their URLs). Creation dates are spread over a
   year and view counts over 0-5,000, so both orders have real work to do.
2. gunicorn (a dependency: it is also the production server) serves the app with 2 sync
   workers, DEBUG=false, SECURE_SSL_REDIRECT=false, through `bench/gallery_settings.py`: the
   project's settings plus a URLconf (`bench/gallery_urls.py`) that adds one truly trivial view
   (a fixed 200 with no database and no template: /healthz checks the database, the storage
   and the queue, so it is no baseline), and static file URLs without the manifest (no
   collectstatic; wrk fetches pages, not their assets).
3. wrk loads each URL in turn in the same run (a short warm-up, then --duration seconds with
   --connections connections) and a Lua `done` hook reports requests per second and the
   50th/95th/99th percentile latencies. Any answer other than 200 is counted and reported.

--page-cache-seconds 0 measures every page rendered afresh (no kept grid or page: see
albums/fragments.py); the default measures the app as configured (30 s).

Targets: each page at least half the trivial view's rate, p95 under 50 ms. The machine's
other load counts too: run it on a quiet machine, and read the trivial view's figure first.
The bench is not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

DB_NAME = "ie_bench_gallery"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
IMAGES = 10_000
PEOPLE = 200
ALBUMS = 1_000
PER_ALBUM = 10
PUBLIC_ALBUMS = 700
PAGE = 400

WORK = Path(tempfile.mkdtemp(prefix="bench-gallery-"))
ENV = {
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "DEBUG": "false",
    "SECURE_SSL_REDIRECT": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "MEDIA_ROOT": str(WORK / "media"),
    "STORAGE_BUCKET": "",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "bench.gallery_settings",
}
os.environ.update(ENV)

LUA = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50": %.3f, "p95": %.3f, "p99": %.3f, "errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, errors))
end
"""


def admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def database_exists() -> bool:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        return row is not None


def migrate_and_seed() -> None:
    admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
    admin_sql(f'CREATE DATABASE "{DB_NAME}"')
    from django.core.management import call_command

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.monotonic() - started:.0f} s", flush=True)
    started = time.monotonic()
    seed()
    print(f"seeded in {time.monotonic() - started:.0f} s", flush=True)


def seed() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from albums.models import Album, AlbumImage, AlbumPrivacy
    from core.ids import new_id, new_share_token
    from enhancement import storage
    from enhancement.models import EnhancedImage, ImageEnhancementJob, JobStatus

    rng = random.Random(12)
    User = get_user_model()
    with transaction.atomic():
        people = User.objects.bulk_create(
            User(
                id=new_id(),
                email=f"person{n}@example.com",
                public_name=f"Photographer {n}" if n % 3 else "",
            )
            for n in range(PEOPLE)
        )
        images = []
        for n in range(IMAGES):
            image_id = new_id()
            images.append(
                EnhancedImage(
                    id=image_id,
                    user=people[n % PEOPLE],
                    name=f"Photo {n}",
                    original_r2_key=storage.original_key(image_id=image_id, extension="jpg"),
                    thumbnail_r2_key=storage.thumbnail_key(image_id=image_id),
                    preview_r2_key=storage.preview_key(image_id=image_id),
                    original_width=4000,
                    original_height=3000,
                    original_size_bytes=3_000_000,
                    original_format="jpeg",
                    is_public=True,
                    view_count=int(rng.paretovariate(1.2)) % 5000,
                )
            )
        EnhancedImage.objects.bulk_create(images, batch_size=1000)
        jobs = []
        for image in images[::3]:
            job_id = new_id()
            ids = {"image_id": image.pk, "job_id": job_id}
            jobs.append(
                ImageEnhancementJob(
                    id=job_id,
                    image=image,
                    user_id=image.user_id,
                    tier="TIER_2K",
                    tokens_cost=5,
                    status=JobStatus.COMPLETED,
                    enhanced_r2_key=storage.job_result_key(**ids, extension="jpg"),
                    enhanced_preview_r2_key=storage.job_preview_key(**ids),
                    enhanced_width=2048,
                    enhanced_height=1536,
                )
            )
        ImageEnhancementJob.objects.bulk_create(jobs, batch_size=1000)
        by_owner: dict[str, list] = {}
        for image in images:
            by_owner.setdefault(image.user_id, []).append(image)
        albums, members = [], []
        for n in range(ALBUMS):
            owner = people[n % PEOPLE]
            public = n < PUBLIC_ALBUMS
            album = Album(
                id=new_id(),
                user=owner,
                name=f"Album {n}",
                description="Seaside, city and friends.",
                privacy=AlbumPrivacy.PUBLIC if public else AlbumPrivacy.UNLISTED,
                share_token=new_share_token(),
                view_count=rng.randrange(0, 3000),
            )
            albums.append(album)
            pool = by_owner[owner.pk]
            start = (n // PEOPLE) * PER_ALBUM
            for position, image in enumerate(pool[start : start + PER_ALBUM]):
                members.append(
                    AlbumImage(id=new_id(), album=album, image=image, sort_order=position)
                )
        Album.objects.bulk_create(albums, batch_size=1000)
        AlbumImage.objects.bulk_create(members, batch_size=2000)
        with connection.cursor() as cursor:  # bulk_create stamps "now" on every row
            cursor.execute(
                "UPDATE enhancement_enhancedimage SET created_at = now() - random() * "
                "interval '365 days'"
            )
            cursor.execute(
                "UPDATE albums_album SET created_at = now() - random() * interval '365 days'"
            )
            cursor.execute("ANALYZE")


def urls() -> dict[str, str]:
    from django.conf import settings

    from albums.models import Album, AlbumPrivacy
    from albums.selectors import Sort, _encode
    from enhancement.models import EnhancedImage

    size = settings.GALLERY_PAGE_SIZE
    # the last row of page 399: its cursor opens page 400 (what 399 clicks on Next reach)
    before_400 = (
        EnhancedImage.objects.filter(is_public=True)
        .order_by("-created_at", "-pk")
        .only("id", "created_at")[(PAGE - 1) * size - 1]
    )
    album = Album.objects.filter(privacy=AlbumPrivacy.PUBLIC).order_by("pk").first()
    shared = Album.objects.filter(privacy=AlbumPrivacy.UNLISTED).order_by("pk").first()
    return {
        "trivial view": "/bench/trivial/",
        "gallery, page 1": "/gallery/",
        f"gallery, page {PAGE}": f"/gallery/?after={_encode(Sort.NEWEST, before_400)}",
        "album page": f"/albums/{album.pk}/",
        "shared album page": f"/s/{shared.share_token}/",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/bench/trivial/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not come up")


def check(base: str, path: str) -> int:
    with urllib.request.urlopen(base + path, timeout=10) as response:
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status}")
        return len(body)


def load(base: str, path: str, *, duration: int, connections: int, script: Path) -> dict:
    common = ["wrk", "-t", "1", "-c", str(connections), "-s", str(script), base + path]
    subprocess.run([*common[:5], "-d", "2s", *common[5:]], capture_output=True, check=True)
    out = subprocess.run(
        [*common[:5], "-d", f"{duration}s", *common[5:]],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["rate"] = result["requests"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per URL")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--page-cache-seconds",
        type=int,
        default=None,
        help="ALBUMS_PAGE_CACHE_SECONDS for the server (0: every page rendered afresh)",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse-db", action="store_true", help="use a kept database as it is")
    args = parser.parse_args()
    if args.page_cache_seconds is not None:
        os.environ["ALBUMS_PAGE_CACHE_SECONDS"] = str(args.page_cache_seconds)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    import django

    django.setup()
    if not (args.reuse_db and database_exists()):
        migrate_and_seed()
    paths = urls()
    from django.db import connections

    connections.close_all()  # no idle connection of ours beside the server's
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        start_new_session=True,
    )
    script = WORK / "report.lua"
    script.write_text(LUA)
    results = {}
    try:
        wait_until_up(base)
        for name, path in paths.items():
            size = check(base, path)
            print(f"{name}: {path[:60]} ({size:,} bytes)", flush=True)
        for name, path in paths.items():
            results[name] = load(
                base, path, duration=args.duration, connections=args.connections, script=script
            )
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)
        shutil.rmtree(WORK, ignore_errors=True)
        if not args.keep_db and not args.reuse_db:
            admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}"')

    from django.conf import settings

    trivial = results["trivial view"]["rate"]
    print()
    print(
        f"gunicorn {args.workers} sync workers, wrk 1 thread {args.connections} connections, "
        f"{args.duration} s per URL; {IMAGES:,} public images, {ALBUMS:,} albums; pages kept "
        f"{settings.ALBUMS_PAGE_CACHE_SECONDS} s"
    )
    print(f"{'page':<22} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  vs trivial  ok")
    for name, r in results.items():
        ratio = r["rate"] / trivial
        ok = name == "trivial view" or (ratio >= 0.5 and r["p95"] < 50 and not r["errors"])
        errors = f"  {r['errors']} errors" if r["errors"] else ""
        print(
            f"{name:<22} {r['rate']:>8.0f} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f}"
            f"  {ratio:>9.0%}  {'yes' if ok else 'NO'}{errors}"
        )


if __name__ == "__main__":
    main()
