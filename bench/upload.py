"""Benchmark of the upload path and of the library page.

    uv run python bench/upload.py [--megapixels 24] [--repeat 3]

1. Time and peak memory to accept one large JPEG through the upload view (multipart parsing,
   validation by decoding, the lossless removal of the location (no re-encode of the
   original since originals are kept byte for byte), two WebP derivatives,
   storage writes, the row), beside the time and memory Pillow alone takes to decode the same
   file, in the same run. Each measurement runs in a fresh forked process so that its peak
   resident memory (VmHWM, reset before the work) is its own.
2. The number of queries of the library page at 20 and at 200 images: it must not grow.

Runs on a throw-away SQLite database and media folder (or DATABASE_URL if set: use a scratch
database, tables are created and filled there).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Not bench/ itself: bench/tokens.py would shadow the `tokens` app.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

# Measurements run in spawned processes that import this module again: they find the same
# scratch folder, database and media through the environment.
WORK = Path(os.environ.setdefault("BENCH_WORK", tempfile.mkdtemp(prefix="bench-upload-")))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{WORK / 'bench.sqlite3'}")
os.environ["MEDIA_ROOT"] = str(WORK / "media")
os.environ["STORAGE_BUCKET"] = ""  # the local folder: this measures our code, not a network
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

PLAIN_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


# --- measuring ------------------------------------------------------------------------------
def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _measure_child(queue, fn, path, extra):
    data = Path(path).read_bytes()
    fn(photo_jpeg(0.01), *extra)  # warm up: imports, plugins, URL and template caches
    with contextlib.suppress(OSError):  # reset the peak RSS (VmHWM) to the current RSS
        Path("/proc/self/clear_refs").write_text("5")
    base = _status_kb("VmRSS")
    start = time.perf_counter()
    fn(data, *extra)
    seconds = time.perf_counter() - start
    peak = _status_kb("VmHWM")
    queue.put((seconds, (peak - base) / 1024))


def measure(fn, path: Path, *extra, repeat: int = 3) -> tuple[float, float]:
    """(median seconds, max extra peak MB) of fn(file bytes, *extra), each run in a fresh
    process (spawned, not forked: a fork would inherit this process's resident heap and hide
    the memory the work needs). The file is read, and the code warmed up on a tiny file,
    before the baseline is taken."""
    for conn in connections.all():
        conn.close()
    ctx = multiprocessing.get_context("spawn")
    times, peaks = [], []
    for _ in range(repeat):
        queue = ctx.Queue()
        proc = ctx.Process(target=_measure_child, args=(queue, fn, str(path), extra))
        proc.start()
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"measurement process failed ({proc.exitcode})")
        seconds, peak_mb = queue.get(timeout=10)
        times.append(seconds)
        peaks.append(peak_mb)
    return statistics.median(times), max(peaks)


# --- the work -------------------------------------------------------------------------------
def photo_jpeg(megapixels: float) -> bytes:
    """A photo-like JPEG (3:2, smooth gradients with grain) of about `megapixels`."""
    width = int((megapixels * 1_000_000 * 3 / 2) ** 0.5)
    height = int(width * 2 / 3)
    grain = Image.effect_noise((width, height), 24).filter(ImageFilter.GaussianBlur(0.6))
    horizontal = Image.linear_gradient("L").rotate(90).resize((width, height))
    vertical = Image.linear_gradient("L").resize((width, height))
    red = Image.blend(horizontal, grain, 0.35)
    green = Image.blend(vertical, grain, 0.35)
    blue = Image.blend(Image.blend(horizontal, vertical, 0.5), grain, 0.35)
    buf = io.BytesIO()
    Image.merge("RGB", (red, green, blue)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def pillow_decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as img:
        img.load()


def accept_through_the_view(data: bytes, user_pk: str) -> None:
    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(pk=user_pk))
    with override_settings(STORAGES={**PLAIN_STATIC, "default": _media_storage()}):
        response = client.post(
            reverse("images:upload"),
            {"files": [SimpleUploadedFile("big.jpg", data, content_type="image/jpeg")]},
        )
    if response.status_code != 200:
        raise SystemExit(f"upload refused: {response.status_code} {response.content[:500]!r}")


def _media_storage() -> dict:
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": os.environ["MEDIA_ROOT"], "base_url": "/media/"},
    }


def library_queries(user, count: int) -> int:
    from enhancement.models import EnhancedImage, ImageEnhancementJob
    from tests.factories import EnhancedImageFactory, ImageEnhancementJobFactory

    have = EnhancedImage.objects.filter(user=user).count()
    for _ in range(count - have):
        image = EnhancedImageFactory(user=user)
        if ImageEnhancementJob.objects.count() < count // 4:
            ImageEnhancementJobFactory(image=image, status="COMPLETED")
    client = Client()
    client.force_login(user)
    with override_settings(STORAGES={**PLAIN_STATIC, "default": _media_storage()}):
        client.get(reverse("images:library"))  # warm up
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("images:library"))
    assert response.status_code == 200, response.status_code
    return len(queries)


def bench_user(email: str):
    """The user of that email: made on the first run, found again on a run over the same
    database (BENCH_WORK or DATABASE_URL kept)."""
    from django.contrib.auth import get_user_model

    from tests.factories import UserFactory

    return get_user_model().objects.filter(email=email).first() or UserFactory(email=email)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    setup_test_environment()  # 'testserver' host, locmem email
    call_command("migrate", verbosity=0, interactive=False)
    uploader = bench_user("bench-upload@example.com")
    data = photo_jpeg(args.megapixels)
    path = WORK / "photo.jpg"
    path.write_bytes(data)
    with Image.open(io.BytesIO(data)) as img:
        size = img.size
    print(
        f"Test file: {size[0]} x {size[1]} JPEG ({size[0] * size[1] / 1e6:.1f} MP), "
        f"{len(data) / 1024 / 1024:.1f} MB; {args.repeat} runs each, median time, max peak"
    )

    decode_s, decode_mb = measure(pillow_decode, path, repeat=args.repeat)
    accept_s, accept_mb = measure(accept_through_the_view, path, uploader.pk, repeat=args.repeat)

    reader = bench_user("bench-library@example.com")
    q20 = library_queries(reader, 20)
    q200 = library_queries(reader, 200)

    print()
    print("| measurement | time | peak extra memory |")
    print("| --- | --- | --- |")
    print(f"| Pillow alone: decode the file | {decode_s:.2f} s | {decode_mb:.0f} MB |")
    print(f"| Accept it through the upload view | {accept_s:.2f} s | {accept_mb:.0f} MB |")
    print(f"| ratio accept / decode | {accept_s / decode_s:.1f}x | |")
    print()
    print("| library page | queries |")
    print("| --- | --- |")
    print(f"| 20 images | {q20} |")
    print(f"| 200 images | {q200} |")
    if q200 != q20:
        raise SystemExit("The library page's query count grows with the number of images.")


if __name__ == "__main__":
    main()
