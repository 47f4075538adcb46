"""A learned 2x upscaler: waifu2x's photo model, run on the CPU by the `ncnn` wheel.

`upconv_7_photo` (MIT, see `waifu2x/LICENSE`) doubles an RGB picture and removes JPEG
artefacts as it goes; each noise level is a model of its own. Measured against a LANCZOS
resize on real photos shrunk and JPEG-compressed (`bench/quality.py`, figures in the README),
it did best of the upscalers tried that fit this product's limits (CPU only, seconds, a few
hundred MB).

- Tiles: the picture is cut into `TILE`-pixel squares, each run with `CONTEXT` pixels of its
  neighbours around it (the network's reach), so the tiles join without a seam and the result
  is the same as one pass over the whole picture. Without tiles, ncnn needs gigabytes at 1K.
- Threads: ncnn takes every core unless told; the caller says how many (a setting), so that
  two workers on two cores do not fight.
- Where ncnn (and numpy, which comes with it) is missing, nothing here is imported until a
  model is asked for.
- One load per process: `get_upscaler` keeps each loaded model (a `ncnn.Net` serves any number
  of threads, each with its own extractor). A model that cannot load (no `ncnn` on this
  platform, a missing or damaged file) gives `None`, logged once; the engine then resizes
  without it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PIL import Image

logger = logging.getLogger(__name__)

SHIPPED_MODEL_DIR = Path(__file__).resolve().parent / "waifu2x" / "upconv_7_photo"
# The noise levels shipped: 0 for clean pictures, 3 for visibly compressed ones.
NOISE_LEVELS = (0, 3)

TILE = 100  # input pixels per tile side: ncnn's scratch for one tile is about 100 MB
CONTEXT = 7  # six 3x3 convolutions and the deconvolution see 7 pixels beyond a tile
INPUT_BLOB = "Input1"
OUTPUT_BLOB = "Eltwise4"


class UpscalerError(RuntimeError):
    """The model ran but gave no usable answer."""


class Upscaler:
    """One loaded model. `upscale` is safe to call from several threads at once."""

    def __init__(self, net, *, noise: int):
        self._net = net
        self.noise = noise

    def upscale(self, image: Image.Image) -> Image.Image:
        """An RGB image in, an RGB image of exactly twice its width and height out."""
        import ncnn
        import numpy as np

        if image.mode != "RGB":
            raise ValueError(f"the upscaler takes RGB, not {image.mode}")
        pixels = np.asarray(image, dtype=np.uint8)
        height, width = pixels.shape[:2]
        # The edge pixels repeated outwards: the context the border tiles lack.
        padded = np.pad(pixels, ((CONTEXT, CONTEXT), (CONTEXT, CONTEXT), (0, 0)), mode="edge")
        del pixels
        result = np.empty((height * 2, width * 2, 3), dtype=np.uint8)
        for top in range(0, height, TILE):
            tile_height = min(TILE, height - top)
            for left in range(0, width, TILE):
                tile_width = min(TILE, width - left)
                window = padded[
                    top : top + tile_height + 2 * CONTEXT, left : left + tile_width + 2 * CONTEXT
                ]
                # Planar float32 in [0, 1]. ncnn.Mat borrows this array's memory: it must stay
                # referenced until the extraction is done.
                planes = np.ascontiguousarray(window.transpose(2, 0, 1), dtype=np.float32)
                planes *= 1 / 255
                mat = ncnn.Mat(planes)
                with self._net.create_extractor() as extractor:
                    extractor.input(INPUT_BLOB, mat)
                    status, output = extractor.extract(OUTPUT_BLOB)
                    doubled = np.array(output)
                del mat, planes
                expected = (3, tile_height * 2, tile_width * 2)
                if status != 0 or doubled.shape != expected:
                    raise UpscalerError(
                        f"ncnn returned {status} and a {doubled.shape} tile, wanted {expected}"
                    )
                doubled *= 255
                doubled += 0.5
                np.clip(doubled, 0, 255, out=doubled)
                result[top * 2 : (top + tile_height) * 2, left * 2 : (left + tile_width) * 2] = (
                    doubled.transpose(1, 2, 0)
                )
        return Image.fromarray(result, "RGB")


_loaded: dict[tuple[str, int, int], Upscaler | None] = {}
_warned: set[str] = set()
_lock = threading.Lock()


def get_upscaler(*, model_dir: str | Path, noise: int, threads: int) -> Upscaler | None:
    """The model for `noise` from `model_dir`, loaded once per process with `threads` threads;
    `None` (logged once) when it cannot be loaded."""
    key = (str(model_dir), noise, threads)
    with _lock:
        if key not in _loaded:
            _loaded[key] = _load(Path(model_dir), noise=noise, threads=threads)
        return _loaded[key]


def _load(model_dir: Path, *, noise: int, threads: int) -> Upscaler | None:
    try:
        import ncnn
    except ImportError as exc:
        _warn_once("ncnn", f"ncnn cannot be imported ({exc})")
        return None
    stem = f"noise{noise}_scale2.0x_model"
    param, weights = model_dir / f"{stem}.param", model_dir / f"{stem}.bin"
    missing = [path.name for path in (param, weights) if not path.is_file()]
    if missing:
        _warn_once(str(model_dir), f"{', '.join(missing)} not found in {model_dir}")
        return None
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = threads
    if net.load_param(str(param)) != 0 or net.load_model(str(weights)) != 0:
        _warn_once(str(param), f"ncnn could not load {stem} from {model_dir}")
        return None
    logger.info("upscaler: %s loaded from %s, %d thread(s)", stem, model_dir, threads)
    return Upscaler(net, noise=noise)


def _warn_once(key: str, reason: str) -> None:
    if key in _warned:
        return
    _warned.add(key)
    logger.warning(
        "The learned upscaler is unavailable (%s): the local engine resizes with LANCZOS instead.",
        reason,
    )
