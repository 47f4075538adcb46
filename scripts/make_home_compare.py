"""Make the home page's before/after from a public-domain photo, with our own local engine.

    .venv/bin/python scripts/make_home_compare.py

The photo is bench/photos/coffee.png (CC0, Rachel Michetti, via scikit-image; see
bench/photos/README.md). "Before" is what a small, compressed copy of it looks like enlarged
the plain way (shrunk 3x, JPEG quality 50, then bicubic back to 600x400); "after" is the same
small JPEG enhanced by `LocalEngine` at the 1K tier, shown at 600x400. Both are written to
static/img/home/ as WebP.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from PIL import Image  # noqa: E402

from enhancement.engines import LocalEngine, TierSpec  # noqa: E402

SIZE = (600, 400)
OUT = ROOT / "static" / "img" / "home"


def main() -> None:
    photo = Image.open(ROOT / "bench" / "photos" / "coffee.png").convert("RGB")
    small = photo.resize((photo.width // 3, photo.height // 3), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=50)
    small_jpeg = buffer.getvalue()

    before = (
        Image.open(io.BytesIO(small_jpeg)).convert("RGB").resize(SIZE, Image.Resampling.BICUBIC)
    )
    result = LocalEngine().enhance(
        original=small_jpeg, tier=TierSpec(name="TIER_1K", max_dimension=1024, gemini_size="1K")
    )
    after = (
        Image.open(io.BytesIO(result.data)).convert("RGB").resize(SIZE, Image.Resampling.LANCZOS)
    )

    OUT.mkdir(parents=True, exist_ok=True)
    before.save(OUT / "before.webp", "WEBP", quality=88, method=6)
    after.save(OUT / "after.webp", "WEBP", quality=88, method=6)
    size = f"{result.width}x{result.height}"
    print(f"wrote {OUT / 'before.webp'} and {OUT / 'after.webp'} (engine: {size})")


if __name__ == "__main__":
    main()
