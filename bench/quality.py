"""How good the local engine's enlargements are, next to a plain LANCZOS or bicubic resize, and
what they cost.

    uv run python bench/quality.py                  # quality table, then the speed table
    uv run python bench/quality.py --skip-speed --qualities 90 60 40 --shrink 2
    uv run python bench/quality.py --skip-quality --rounds 1

Quality: each real photo of `bench/photos/` (public domain or CC0, see its README) is cropped
to a multiple of 4 and shrunk 4x (LANCZOS; or `--shrink`), and saved as a JPEG at each quality asked
(90 and 60 by default: ten cases). Each method then brings that JPEG back to the photo's size,
bytes in and bytes out, as a job would: the engine (`LocalEngine().enhance(...)` at a tier of
the photo's longer side), and the plain resizes (decode, `Image.resize` with LANCZOS or
BICUBIC, encode JPEG quality 92, as the engine's result is). Each result is compared with the
photo itself: PSNR over every channel, and SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma
1.5) on the luma; both higher is better. Targets (not asserted): the engine at least 1.0 dB
above LANCZOS on average, and above it on every case.

Speed: the 1K, 2K and 4K tiers from originals a quarter of their size (the enlargement the
quality table measures), 4K from the largest original the model takes by default
(`ENHANCEMENT_MODEL_MAX_PIXELS`, 1.1 MP) and from one past it (enlarged with LANCZOS alone),
and 4K from a 50-megapixel JPEG and PNG (the upload limit). Each method runs in a fresh Python
process (so its peak RSS, `ru_maxrss`, is its own); the time is the best of the runs. Targets
(not asserted): a 4K result in under 6 s on 2 cores with a peak under 400 MB.

Threads: `ENHANCEMENT_NCNN_THREADS` from the environment, as the workers read it (default 1).
On a busy machine wall times stretch; the CPU time of the measuring process beside them does
not (with one thread it is the wall time of an idle machine).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, where bench/tokens.py would
# shadow the `tokens` app: put the project root there instead.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [
    entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"
]

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

PHOTOS = ROOT / "bench" / "photos"
PHOTO_NAMES = ("astronaut.png", "camera.png", "chelsea.png", "coffee.png", "rocket.jpg")
METHODS = ("engine", "lanczos", "bicubic")
DEFAULT_QUALITIES = (90, 60)
DEFAULT_SHRINK = 4
RESULT_JPEG_QUALITY = 92  # what the engine writes; the plain resizes are encoded alike

# (label, original size, tier's longer side, how the original is stored)
SPEED_CASES = (
    ("1K from 256x171", (256, 171), 1024, "jpeg"),
    ("2K from 512x341", (512, 341), 2048, "jpeg"),
    ("4K from 1024x683", (1024, 683), 4096, "jpeg"),
    ("4K from 1200x912 (the model's limit)", (1200, 912), 4096, "jpeg"),
    ("4K from 2048x1536 (past it)", (2048, 1536), 4096, "jpeg"),
    ("4K from 50 MP JPEG", (8660, 5773), 4096, "jpeg"),
    ("4K from 50 MP PNG", (8660, 5773), 4096, "png"),
)


# --- measures ---------------------------------------------------------------------------------


def psnr(result, truth) -> float:
    import numpy as np

    difference = np.asarray(result, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    mse = float(np.mean(difference * difference))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def ssim(result, truth) -> float:
    """Mean SSIM of the luma (Wang, Bovik, Sheikh, Simoncelli 2004), 'valid' windows only."""
    import numpy as np

    x = np.asarray(result.convert("L"), dtype=np.float64)
    y = np.asarray(truth.convert("L"), dtype=np.float64)
    taps = np.exp(-0.5 * ((np.arange(11) - 5) / 1.5) ** 2)
    taps /= taps.sum()

    def blur(a):  # separable 11-tap Gaussian, no padding
        for axis in (0, 1):
            length = a.shape[axis] - 10
            a = sum(taps[i] * np.take(a, np.arange(i, i + length), axis=axis) for i in range(11))
        return a

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mean_x, mean_y = blur(x), blur(y)
    var_x = blur(x * x) - mean_x**2
    var_y = blur(y * y) - mean_y**2
    covariance = blur(x * y) - mean_x * mean_y
    index = ((2 * mean_x * mean_y + c1) * (2 * covariance + c2)) / (
        (mean_x**2 + mean_y**2 + c1) * (var_x + var_y + c2)
    )
    return float(index.mean())


# --- the cases ----------------------------------------------------------------------------------


def truth_photo(name: str, shrink: int):
    from PIL import Image

    with Image.open(PHOTOS / name) as photo:
        photo.load()
        image = photo if photo.mode in ("L", "RGB") else photo.convert("RGB")
        width, height = image.width // shrink * shrink, image.height // shrink * shrink
        return image.crop((0, 0, width, height))


def degraded(truth, quality: int, shrink: int) -> bytes:
    """The photo shrunk `shrink` times and saved as a JPEG: the original a user would upload."""
    from PIL import Image

    small = truth.resize((truth.width // shrink, truth.height // shrink), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def synthetic_original(size: tuple[int, int], fmt: str) -> bytes:
    """A photo of `size`: the coffee cup resized to it (content barely matters for speed)."""
    from PIL import Image

    with Image.open(PHOTOS / "coffee.png") as photo:
        image = photo.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if fmt == "png":
        image.save(buffer, format="PNG", compress_level=1)
    else:
        image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


# --- one method on one original, in a child process ------------------------------------------


def _maxrss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def run_child(method: str, original_path: str, max_dimension: int, repeats: int, out: str):
    # The engines read settings only: no app registry (django.setup) is needed.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from PIL import Image

    from enhancement.engines import LocalEngine, TierSpec, target_size

    data = Path(original_path).read_bytes()
    tier = TierSpec(name="BENCH", max_dimension=max_dimension, gemini_size="4K")
    with Image.open(io.BytesIO(data)) as probe:
        size = target_size(probe.width, probe.height, max_dimension)

    if method == "engine":
        engine = LocalEngine()

        def work() -> bytes:
            return engine.enhance(original=data, tier=tier).data

    else:
        resample = {"lanczos": Image.Resampling.LANCZOS, "bicubic": Image.Resampling.BICUBIC}[
            method
        ]

        def work() -> bytes:
            with Image.open(io.BytesIO(data)) as image:
                resized = image.resize(size, resample)
            buffer = io.BytesIO()
            if resized.mode == "RGBA":
                resized.save(buffer, format="PNG", compress_level=3)
            else:
                resized.save(buffer, format="JPEG", quality=RESULT_JPEG_QUALITY)
            return buffer.getvalue()

    if method == "engine":
        # A worker loads the models once, not per job: load them before the clock starts.
        from enhancement.engines.upscaler import NOISE_LEVELS, get_upscaler

        for noise in NOISE_LEVELS:
            get_upscaler(model_dir=engine.model_dir, noise=noise, threads=engine.threads)
    baseline = _maxrss_kb()
    times, cpu_times = [], []
    result = b""
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = work()
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu_started)
    Path(out).write_bytes(result)
    print(
        json.dumps(
            {
                "best_s": min(times),
                "cpu_s": min(cpu_times),
                "peak_kb": _maxrss_kb(),
                "baseline_kb": baseline,
            }
        )
    )


def measure(method: str, original: Path, max_dimension: int, repeats: int, out: Path) -> dict:
    completed = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            method,
            str(original),
            str(max_dimension),
            str(repeats),
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{method} on {original.name} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def best_of(method, original, max_dimension, rounds, repeats, out) -> dict:
    """`rounds` fresh processes: the best time, the highest peak."""
    best: dict | None = None
    for _ in range(rounds):
        measured = measure(method, original, max_dimension, repeats, out)
        if best is None:
            best = measured
        else:
            best["best_s"] = min(best["best_s"], measured["best_s"])
            best["cpu_s"] = min(best["cpu_s"], measured["cpu_s"])
            best["peak_kb"] = max(best["peak_kb"], measured["peak_kb"])
    return best


# --- the tables -------------------------------------------------------------------------------


def quality_table(
    qualities: list[int], shrink: int, folder: Path, rounds: int, repeats: int
) -> None:
    from PIL import Image

    print(f"Quality: photo shrunk {shrink}x, saved as JPEG, brought back by each method")
    print()
    header = "| photo | JPEG q | " + " | ".join(
        f"{m} PSNR | {m} SSIM | {m} ms | {m} MB" for m in METHODS
    )
    print(header + " | engine - LANCZOS |")
    print("|" + " --- |" * (2 + 4 * len(METHODS) + 1))
    gains: list[float] = []
    totals: dict[str, list[tuple[float, float, float, float]]] = {m: [] for m in METHODS}
    for quality in qualities:
        for name in PHOTO_NAMES:
            truth = truth_photo(name, shrink)
            original = folder / f"{Path(name).stem}-q{quality}.jpg"
            original.write_bytes(degraded(truth, quality, shrink))
            row = {}
            for method in METHODS:
                out = folder / f"out-{method}"
                measured = best_of(method, original, max(truth.size), rounds, repeats, out)
                with Image.open(out) as result:
                    result.load()
                    if result.size != truth.size:
                        raise SystemExit(f"{method} gave {result.size}, wanted {truth.size}")
                    result = result.convert(truth.mode)
                row[method] = (
                    psnr(result, truth),
                    ssim(result, truth),
                    measured["best_s"] * 1000,
                    measured["peak_kb"] / 1024,
                )
                totals[method].append(row[method])
            gain = row["engine"][0] - row["lanczos"][0]
            gains.append(gain)
            cells = " | ".join(
                f"{p:.2f} | {s:.4f} | {ms:.0f} | {mb:.0f}" for p, s, ms, mb in row.values()
            )
            flag = "" if gain > 0 else " (below LANCZOS)"
            print(f"| {Path(name).stem} | {quality} | {cells} | {gain:+.2f} dB{flag} |")
    means = " | ".join(
        f"{sum(r[0] for r in rows) / len(rows):.2f} | {sum(r[1] for r in rows) / len(rows):.4f}"
        f" | {sum(r[2] for r in rows) / len(rows):.0f} | {max(r[3] for r in rows):.0f}"
        for rows in totals.values()
    )
    mean_gain = sum(gains) / len(gains)
    print(f"| **mean** (MB: max) | | {means} | **{mean_gain:+.2f} dB** |")
    print()
    ssim_gain = sum(
        e[1] - lz[1] for e, lz in zip(totals["engine"], totals["lanczos"], strict=True)
    ) / len(gains)
    print(
        f"engine - LANCZOS: mean {mean_gain:+.2f} dB (target +1.00), worst {min(gains):+.2f} dB "
        f"(target > 0), SSIM {ssim_gain:+.4f}; "
        f"{sum(g > 0 for g in gains)} of {len(gains)} cases above LANCZOS"
    )


def speed_table(folder: Path, rounds: int, repeats: int) -> None:
    from enhancement.engines import target_size

    print()
    print(
        "Speed: wall time, best of the runs (and the CPU time of the measuring process), and "
        "peak RSS of a fresh process (and the part above its baseline)"
    )
    print()
    print("| case | result | " + " | ".join(f"{m} s | {m} MB" for m in METHODS) + " |")
    print("|" + " --- |" * (2 + 2 * len(METHODS)))
    for label, size, max_dimension, fmt in SPEED_CASES:
        original = folder / f"speed-{size[0]}x{size[1]}.{fmt}"
        if not original.exists():
            # In a child: a parent grown big by a 50 MP picture would lift every later peak.
            subprocess.run(
                [sys.executable, __file__, "--make", f"{size[0]}x{size[1]}", fmt, str(original)],
                check=True,
            )
        result_size = "x".join(map(str, target_size(*size, max_dimension)))
        heavy = size[0] * size[1] > 4_000_000
        cells = []
        for method in METHODS:
            measured = best_of(
                method,
                original,
                max_dimension,
                1 if heavy else rounds,
                1 if heavy else repeats,
                folder / f"speed-out-{method}",
            )
            peak = measured["peak_kb"] / 1024
            above = (measured["peak_kb"] - measured["baseline_kb"]) / 1024
            cells.append(
                f"{measured['best_s']:.2f} ({measured['cpu_s']:.2f}) | {peak:.0f} (+{above:.0f})"
            )
        print(f"| {label} | {result_size} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qualities", nargs="+", type=int, default=list(DEFAULT_QUALITIES))
    parser.add_argument("--shrink", type=int, default=DEFAULT_SHRINK, help="how much smaller")
    parser.add_argument("--rounds", type=int, default=2, help="processes per measurement")
    parser.add_argument("--repeats", type=int, default=2, help="runs per process")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--make", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        method, path, max_dimension, repeats, out = args.child
        run_child(method, path, int(max_dimension), int(repeats), out)
        return
    if args.make:
        size, fmt, path = args.make
        width, height = (int(n) for n in size.split("x"))
        Path(path).write_bytes(synthetic_original((width, height), fmt))
        return

    import ncnn
    from PIL import __version__ as pillow_version

    threads = os.environ.get("ENHANCEMENT_NCNN_THREADS", "1 (default)")
    print(
        f"Python {sys.version.split()[0]}, Pillow {pillow_version}, ncnn {ncnn.__version__}, "
        f"{os.cpu_count()} cores, ncnn threads {threads}"
    )
    print()
    with tempfile.TemporaryDirectory() as folder:
        if not args.skip_quality:
            quality_table(args.qualities, args.shrink, Path(folder), args.rounds, args.repeats)
        if not args.skip_speed:
            speed_table(Path(folder), args.rounds, args.repeats)


if __name__ == "__main__":
    main()
