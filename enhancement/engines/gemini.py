"""Enhancement by Google's Gemini image model, through the official `google-genai` client.

One `generate_content` call per enhancement: the original as an inline image, the prompt as
text, and `imageConfig` with the tier's size and the supported aspect ratio nearest to the
original's. The model's output sizes are its own (4:3 at 4K is 4800x3584), so the returned
image is centre-cropped to the original's exact ratio and resized to the tier's size.

The client never retries (the job queue does), and every failure is mapped to a
`TransientEngineError` or a `PermanentEngineError`.
"""

from __future__ import annotations

import importlib
import io
import json
import math
from typing import TYPE_CHECKING

from PIL import Image

from .base import (
    EngineError,
    EngineResult,
    PermanentEngineError,
    TierSpec,
    TransientEngineError,
    crop_to_ratio,
    encode_image,
    load_image,
    normalise_mode,
    open_image,
    target_size,
)
from .usage import EngineUsage, Meter

if TYPE_CHECKING:
    from google.genai import types

# The image models are documented on the beta REST surface; this client version defaults
# to "v1".
DEFAULT_API_VERSION = "v1beta"

SUPPORTED_ASPECT_RATIOS = (
    "1:1",
    "2:3",
    "3:2",
    "3:4",
    "4:3",
    "4:5",
    "5:4",
    "9:16",
    "16:9",
    "21:9",
)

# MPO is what Pillow calls a JPEG carrying extra pictures (many phone cameras).
_MIME_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

# Finish reasons that mean "a filter stopped it" rather than "it did not work".
_SAFETY_FINISH_REASONS = frozenset(
    {
        "SAFETY",
        "IMAGE_SAFETY",
        "PROHIBITED_CONTENT",
        "IMAGE_PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
    }
)
_RETRYABLE_CLIENT_CODES = frozenset({408, 429})  # request timeout, rate limit

SAFETY_MESSAGE = "The image was declined by the AI's safety filter."
NO_IMAGE_MESSAGE = "The AI returned no image."
BAD_IMAGE_MESSAGE = "The AI returned an image that could not be read."
BUSY_MESSAGE = "The AI service is busy or unreachable right now. We will try again shortly."
REFUSED_MESSAGE = "The AI service could not process this image."


def nearest_aspect_ratio(width: int, height: int) -> str:
    """The supported ratio closest to `width:height`, compared in log space.

    Log space makes 2:1 and 1:2 equally far from 1:1, so portrait and landscape are
    treated alike.
    """
    wanted = math.log(width / height)

    def distance(ratio: str) -> float:
        w, h = ratio.split(":")
        return abs(math.log(int(w) / int(h)) - wanted)

    return min(SUPPORTED_ASPECT_RATIOS, key=distance)


class GeminiEngine:
    name = "gemini"

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        prompt: str,
        base_url: str | None = None,
        timeout_ms: int = 120_000,
        api_version: str = DEFAULT_API_VERSION,
    ):
        if not api_key:
            raise ValueError("GeminiEngine needs an API key")
        self.api_key = api_key
        self.model = model
        self.prompt = prompt
        self.base_url = base_url or None
        self.timeout_ms = timeout_ms
        self.api_version = api_version

    def enhance(
        self, *, original: bytes, tier: TierSpec, auto_adjust: bool = False
    ) -> EngineResult:
        # `auto_adjust` is not sent: what the model corrects is its prompt's business (the
        # GEMINI_PROMPT setting), the same for every job.
        del auto_adjust
        meter = Meter(engine=self.name, model=self.model)
        image = load_image(open_image(original))
        width, height = image.size
        size = target_size(width, height, tier.max_dimension)
        aspect_ratio = nearest_aspect_ratio(width, height)
        mime_type = _MIME_TYPES.get(image.format or "")
        if mime_type is None:  # not one of the normalised formats: send a PNG instead
            original, mime_type = _encode_png(image), "image/png"
        image = normalise_mode(image)
        alpha = image.getchannel("A") if image.mode == "RGBA" else None
        del image

        response = self._generate(
            original=original,
            mime_type=mime_type,
            aspect_ratio=aspect_ratio,
            image_size=tier.gemini_size,
        )
        try:
            returned = _decode_returned(_returned_image_bytes(response))
        except EngineError as exc:
            # An answer is billed, image or not.
            exc.usage = _usage(meter, response)
            raise

        result = crop_to_ratio(returned, width, height)
        if result.size != size:
            result = result.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        if alpha is not None:
            # The model returns no transparency: keep the original's.
            result.putalpha(alpha.resize(size, Image.Resampling.LANCZOS))
        data, fmt = encode_image(result)
        return EngineResult(
            data=data,
            format=fmt,
            width=size[0],
            height=size[1],
            prompt=self.prompt,
            usage=_usage(meter, response),
        )

    def _generate(
        self, *, original: bytes, mime_type: str, aspect_ratio: str, image_size: str
    ) -> types.GenerateContentResponse:
        # Imported here: google-genai takes about a second to import, and only workers that
        # call Gemini need it.
        from google import genai
        from google.genai import errors, types

        http_options = types.HttpOptions(
            base_url=self.base_url,
            api_version=self.api_version,
            timeout=self.timeout_ms,
            retry_options=None,  # the job queue retries, not the client
        )
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=aspect_ratio, image_size=image_size),
        )
        try:
            with genai.Client(
                api_key=self.api_key, vertexai=False, http_options=http_options
            ) as client:
                return client.models.generate_content(
                    model=self.model,
                    contents=[
                        types.Part.from_bytes(data=original, mime_type=mime_type),
                        self.prompt,
                    ],
                    config=config,
                )
        except errors.ClientError as exc:
            if exc.code in _RETRYABLE_CLIENT_CODES:
                raise TransientEngineError(
                    f"Gemini {exc.code}: {exc.message}", user_message=BUSY_MESSAGE
                ) from exc
            raise PermanentEngineError(
                f"Gemini {exc.code}: {exc.message}", user_message=REFUSED_MESSAGE
            ) from exc
        except errors.APIError as exc:  # ServerError (5xx) and any other unexpected status
            raise TransientEngineError(
                f"Gemini {exc.code}: {exc.message}", user_message=BUSY_MESSAGE
            ) from exc
        except _transport_errors() as exc:  # timeouts, refused or reset connections
            raise TransientEngineError(
                f"Gemini unreachable: {type(exc).__name__}: {exc}", user_message=BUSY_MESSAGE
            ) from exc
        except json.JSONDecodeError as exc:  # a 200 whose body is not JSON (a proxy page...)
            raise TransientEngineError(
                f"Gemini answered with a body that is not JSON: {exc}", user_message=BUSY_MESSAGE
            ) from exc


def _transport_errors() -> tuple[type[Exception], ...]:
    """The HTTP library's network errors (timeouts included).

    google-genai 3.6 sends through `httpx2`, its own fork of httpx, whose exceptions are not
    httpx's; it falls back to httpx when that is installed and asked for
    (GOOGLE_GENAI_HTTP_CLIENT=httpx). Catch whichever of the two exist.
    """
    errors: list[type[Exception]] = []
    for module_name in ("httpx2", "httpx"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        errors.append(module.TransportError)
    return tuple(errors)


def _usage(meter: Meter, response: types.GenerateContentResponse) -> EngineUsage:
    """The attempt's usage, with the token counts of the response's `usageMetadata` (absent
    counts stay None: the cost then prices what was reported). Output is every token billed as
    output: the candidates' and the model's thinking. The model is the one asked for (the
    prices are keyed by it), not the response's `modelVersion`."""
    metadata = response.usage_metadata
    if metadata is None:
        return meter.usage()
    output = None
    if metadata.candidates_token_count is not None or metadata.thoughts_token_count is not None:
        output = (metadata.candidates_token_count or 0) + (metadata.thoughts_token_count or 0)
    image_output = None
    if metadata.candidates_tokens_details:
        image_output = sum(
            detail.token_count or 0
            for detail in metadata.candidates_tokens_details
            if _enum_value(detail.modality) == "IMAGE"
        )
    return meter.usage(
        input_tokens=metadata.prompt_token_count,
        output_tokens=output,
        output_image_tokens=image_output,
    )


def _returned_image_bytes(response: types.GenerateContentResponse) -> bytes:
    """The final image of the first candidate, or `PermanentEngineError`."""
    feedback = response.prompt_feedback
    block_reason = _enum_value(feedback.block_reason) if feedback else None
    if block_reason and block_reason != "BLOCKED_REASON_UNSPECIFIED":
        raise PermanentEngineError(
            f"Gemini blocked the prompt: {block_reason} {feedback.block_reason_message or ''}",
            user_message=SAFETY_MESSAGE,
        )
    if not response.candidates:
        raise PermanentEngineError("Gemini returned no candidates", user_message=NO_IMAGE_MESSAGE)
    candidate = response.candidates[0]
    finish_reason = _enum_value(candidate.finish_reason)
    if finish_reason in _SAFETY_FINISH_REASONS:
        raise PermanentEngineError(
            f"Gemini stopped with {finish_reason}: {candidate.finish_message or ''}",
            user_message=SAFETY_MESSAGE,
        )
    parts = (candidate.content.parts if candidate.content else None) or []
    # A thinking image model may send draft images marked `thought`; the last real one is
    # the answer.
    images = [
        part.inline_data.data
        for part in parts
        if part.inline_data is not None
        and part.inline_data.data
        and (part.inline_data.mime_type or "image/").startswith("image/")
        and not part.thought
    ]
    if not images:
        text = " ".join(part.text for part in parts if part.text)[:300]
        raise PermanentEngineError(
            f"Gemini returned no image (finish reason {finish_reason}): {text!r}",
            user_message=NO_IMAGE_MESSAGE,
        )
    return images[-1]


def _decode_returned(data: bytes) -> Image.Image:
    try:
        image = load_image(open_image(data, what="returned"), what="returned")
    except PermanentEngineError as exc:
        raise PermanentEngineError(str(exc), user_message=BAD_IMAGE_MESSAGE) from exc
    # The model's images are opaque; drop any alpha and palette.
    return normalise_mode(image).convert("RGB")


def _enum_value(value: object) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    normalise_mode(image).save(buffer, format="PNG")
    return buffer.getvalue()
