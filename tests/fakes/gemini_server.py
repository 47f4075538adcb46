"""A loopback stand-in for the Gemini API's `generateContent`, for the real `google-genai` client.

    with FakeGeminiServer() as fake:
        fake.push(error(429), ok())          # scripted replies, in order; then `default`
        engine = GeminiEngine(api_key="k", base_url=fake.base_url)
        ...
        fake.requests[0].api_key             # what the client sent

It answers `POST /<version>/models/<model>:generateContent` (the client sends `/v1/...` by
default and `/v1beta/...` with `api_version="v1beta"`) with the REST JSON shapes of the real
API. An `ok` reply is made from the request's inline image: letterboxed (grey bars) into the
size the real model gives for the requested `imageSize` and `aspectRatio`, encoded as PNG.

Every answer that is not an error carries `usageMetadata` as the real API reports it: the
prompt's tokens (a fixed count per input image, about one per four characters of text), the
candidates' by modality (a returned image costs the model's tokens for its size), the
thinking's, and the total (`usage=False` on a reply leaves it out).
"""

from __future__ import annotations

import base64
import binascii
import collections
import io
import json
import math
import re
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageOps

# Gemini 3 Pro Image's output sizes (width, height) per imageSize and aspectRatio.
MODEL_SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "1K": {
        "1:1": (1024, 1024),
        "2:3": (848, 1264),
        "3:2": (1264, 848),
        "3:4": (896, 1200),
        "4:3": (1200, 896),
        "4:5": (928, 1152),
        "5:4": (1152, 928),
        "9:16": (768, 1376),
        "16:9": (1376, 768),
        "21:9": (1584, 672),
    },
}
MODEL_SIZES["2K"] = {r: (w * 2, h * 2) for r, (w, h) in MODEL_SIZES["1K"].items()}
MODEL_SIZES["4K"] = {r: (w * 4, h * 4) for r, (w, h) in MODEL_SIZES["1K"].items()}
# Gemini 3 Pro Image's token counts: an input image, an output image per imageSize, a draft
# (thought) image.
INPUT_IMAGE_TOKENS = 560
OUTPUT_IMAGE_TOKENS = {"1K": 1120, "2K": 1120, "4K": 2000}
THOUGHT_TOKENS = 258

LETTERBOX_COLOUR = (128, 128, 128)
_PATH = re.compile(r"^/(?P<version>v1|v1beta|v1alpha)/models/(?P<model>[^/:]+):generateContent$")
_ERROR_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


# Replies ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    kind: str
    code: int = 200
    message: str = ""
    seconds: float = 0.0
    size: tuple[int, int] | None = None
    thought_image: bool = False
    then: Reply | None = None
    usage: bool = True


def ok(
    *, size: tuple[int, int] | None = None, thought_image: bool = False, usage: bool = True
) -> Reply:
    """An image made from the request's image; `size` overrides the model's size (to keep
    big tiers fast). `thought_image` adds an interim magenta image marked `thought` first,
    as a thinking model does. `usage=False`: no `usageMetadata` in the answer."""
    return Reply("ok", size=size, thought_image=thought_image, usage=usage)


def error(code: int, message: str = "") -> Reply:
    """An error status with Google's error body, e.g. `error(429)`."""
    return Reply("error", code=code, message=message or HTTPStatus(code).phrase)


def safety_block() -> Reply:
    """`promptFeedback.blockReason = SAFETY` and no candidates."""
    return Reply("safety_block")


def finish_safety() -> Reply:
    """A candidate with `finishReason = IMAGE_SAFETY` and no image."""
    return Reply("finish_safety")


def no_image() -> Reply:
    """A candidate with only a text part."""
    return Reply("no_image")


def not_an_image() -> Reply:
    """An `inlineData` part of type image/png whose bytes are not an image."""
    return Reply("not_an_image")


def delay(seconds: float, then: Reply | None = None) -> Reply:
    """Wait `seconds` (or until the server stops), then send `then` (default `ok()`)."""
    return Reply("delay", seconds=seconds, then=then)


# Requests -----------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any] = field(default_factory=dict)
    query: str = ""

    @property
    def api_version(self) -> str | None:
        match = _PATH.match(self.path)
        return match["version"] if match else None

    @property
    def model(self) -> str | None:
        match = _PATH.match(self.path)
        return match["model"] if match else None

    @property
    def api_key(self) -> str | None:
        return self.headers.get("x-goog-api-key")

    @property
    def parts(self) -> list[dict[str, Any]]:
        return [part for content in self.body.get("contents", []) for part in content["parts"]]

    @property
    def texts(self) -> list[str]:
        return [part["text"] for part in self.parts if "text" in part]

    @property
    def inline_images(self) -> list[tuple[str, bytes]]:
        """(mime type, bytes) of each inline part.

        google-genai 3.6 sends `inlineData` with a snake_case `mime_type` inside; the API
        accepts either spelling of a field, and so does this fake.
        """
        images = []
        for part in self.parts:
            blob = part.get("inlineData", part.get("inline_data"))
            if blob is not None:
                mime_type = blob.get("mimeType", blob.get("mime_type", ""))
                images.append((mime_type, _b64decode(blob.get("data", ""))))
        return images

    @property
    def generation_config(self) -> dict[str, Any]:
        return self.body.get("generationConfig", {})

    @property
    def image_config(self) -> dict[str, Any]:
        return self.generation_config.get("imageConfig", {})


def _b64decode(data: str) -> bytes:
    # The client sends URL-safe base64; the API itself answers with the standard alphabet.
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


# The server ---------------------------------------------------------------------------------


class FakeGeminiServer:
    def __init__(self, *, default: Reply | None = None):
        self.default = default or ok()
        self.requests: list[RecordedRequest] = []
        self._replies: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def push(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        with self._lock:
            self._replies.extend(replies)

    def start(self) -> FakeGeminiServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            # A short poll interval: `shutdown()` waits up to one interval.
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-gemini",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes any `delay` reply
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeGeminiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _record(self, request: RecordedRequest, *, consume: bool = True) -> Reply:
        with self._lock:
            self.requests.append(request)
            if consume and self._replies:
                return self._replies.popleft()
            return self.default


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGeminiServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._send_json(404, _error_body(404, f"no route for GET {self.path}"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(400, _error_body(400, "request body is not JSON"))
            return
        path, _, query = self.path.partition("?")
        request = RecordedRequest(
            method="POST",
            path=path,
            query=query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        if _PATH.match(path) is None:
            self.fake._record(request, consume=False)
            self._send_json(404, _error_body(404, f"no route for POST {path}"))
            return
        reply = self.fake._record(request)
        if reply.kind == "delay":
            if self.fake._stopping.wait(reply.seconds):
                return  # shutting down: drop the connection
            reply = reply.then or ok()
        try:
            status, payload = _respond(reply, request)
            self._send_json(status, payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _respond(reply: Reply, request: RecordedRequest) -> tuple[int, dict[str, Any]]:
    if reply.kind == "error":
        return reply.code, _error_body(reply.code, reply.message)
    status, payload = _answer(reply, request)
    if reply.usage and status == 200:
        payload["usageMetadata"] = usage_metadata(request, payload)
    return status, payload


def usage_metadata(request: RecordedRequest, payload: dict[str, Any]) -> dict[str, Any]:
    """The `usageMetadata` the real API sends with `payload`, an answer to `request`."""
    text_tokens = sum(math.ceil(len(text) / 4) for text in request.texts)
    image_tokens = INPUT_IMAGE_TOKENS * len(request.inline_images)
    prompt = [{"modality": "TEXT", "tokenCount": text_tokens}]
    if image_tokens:
        prompt.append({"modality": "IMAGE", "tokenCount": image_tokens})
    usage: dict[str, Any] = {
        "promptTokenCount": text_tokens + image_tokens,
        "promptTokensDetails": prompt,
    }
    output = {"IMAGE": 0, "TEXT": 0}
    thoughts = 0
    size = request.image_config.get("imageSize", "1K")
    for candidate in payload.get("candidates", []):
        for part in (candidate.get("content") or {}).get("parts", []):
            if part.get("thought"):
                thoughts += THOUGHT_TOKENS
            elif "inlineData" in part:
                output["IMAGE"] += OUTPUT_IMAGE_TOKENS.get(size, OUTPUT_IMAGE_TOKENS["1K"])
            elif "text" in part:
                output["TEXT"] += math.ceil(len(part["text"]) / 4)
    candidates = sum(output.values())
    if candidates:
        usage["candidatesTokenCount"] = candidates
        usage["candidatesTokensDetails"] = [
            {"modality": modality, "tokenCount": count}
            for modality, count in output.items()
            if count
        ]
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    usage["totalTokenCount"] = usage["promptTokenCount"] + candidates + thoughts
    return usage


def _answer(reply: Reply, request: RecordedRequest) -> tuple[int, dict[str, Any]]:
    envelope = {"modelVersion": request.model or "", "responseId": f"fake-{id(request):x}"}
    if reply.kind == "safety_block":
        return 200, {**envelope, "promptFeedback": {"blockReason": "SAFETY"}}
    if reply.kind == "finish_safety":
        return 200, {**envelope, "candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0}]}
    if reply.kind == "no_image":
        parts = [{"text": "I can't help with editing this image."}]
        return 200, {**envelope, "candidates": [_candidate(parts)]}
    if reply.kind == "not_an_image":
        parts = [_image_part(b"this is not an image at all")]
        return 200, {**envelope, "candidates": [_candidate(parts)]}
    if reply.kind == "ok":
        try:
            image = _model_image(request, reply.size)
        except ValueError as exc:  # as the real API does for an unreadable input
            return 400, _error_body(400, f"Unable to process input image: {exc}")
        parts = []
        if reply.thought_image:
            draft = _png(Image.new("RGB", (64, 64), "magenta"))
            parts.append({**_image_part(draft), "thought": True})
        parts.append(_image_part(image))
        return 200, {**envelope, "candidates": [_candidate(parts)]}
    raise ValueError(f"unknown reply {reply.kind!r}")


def _model_image(request: RecordedRequest, size: tuple[int, int] | None) -> bytes:
    try:
        images = request.inline_images
        if images:
            source = Image.open(io.BytesIO(images[0][1]))
            source.load()
        else:
            source = Image.new("RGB", (512, 512), LETTERBOX_COLOUR)
    except (OSError, binascii.Error, Image.DecompressionBombError) as exc:
        raise ValueError(f"the request's inline image is not an image: {exc}") from exc
    if size is None:
        image_size = request.image_config.get("imageSize", "1K")
        ratio = request.image_config.get("aspectRatio") or _nearest_ratio(*source.size)
        size = MODEL_SIZES[image_size][ratio]
    result = ImageOps.pad(
        source.convert("RGB"), size, method=Image.Resampling.LANCZOS, color=LETTERBOX_COLOUR
    )
    return _png(result)


def _nearest_ratio(width: int, height: int) -> str:
    # Without an aspectRatio the real model keeps the input's shape.
    def distance(ratio: str) -> float:
        w, h = ratio.split(":")
        return abs(math.log(int(w) / int(h)) - math.log(width / height))

    return min(MODEL_SIZES["1K"], key=distance)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _image_part(data: bytes) -> dict[str, Any]:
    return {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(data).decode()}}


def _candidate(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}


def _error_body(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": _ERROR_STATUS.get(code, "")}}
