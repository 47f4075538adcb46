"""The endpoints of `/api/v1/` (django-ninja): thin, each calls the site's own service.

Every answer to a known key carries `X-Tokens-Remaining` (added in `urlpatterns`, around
ninja's views); an order carries `X-Tokens-Cost`. Errors are RFC 9457 problem details
(`application/problem+json`). Ids in paths and queries are checked against `ID_PATTERN`
before any query (PostgreSQL refuses NUL), and another user's object is a 404 like a missing one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
from functools import wraps
from typing import Literal

from django.conf import settings
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern
from django.utils import timezone
from ninja import File, Form, Header, NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile

from billing import selectors as billing
from core import ratelimit
from core.ids import ID_PATTERN
from enhancement import storage
from enhancement.api import schemas
from enhancement.api.auth import ApiKeyAuth, PlanLapsed, RateLimited, check_rate
from enhancement.images import services as images
from enhancement.images.forms import upload_limits
from enhancement.jobs import export, ordering, transitions
from enhancement.jobs.errors import JobError
from enhancement.jobs.forms import DownloadForm
from enhancement.jobs.tiers import InvalidTier, tier_options
from enhancement.models import EnhancedImage, ImageEnhancementJob, JobStatus
from tokens import services as tokens

API_ROOT = "/api/v1/"
PROBLEM_TYPE = "application/problem+json"
PROBLEM_TYPES_BASE = "/api/v1/docs/#problem-"
IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_KEY_PATTERN = rf"^[ -~]{{1,{IDEMPOTENCY_KEY_MAX}}}$"  # printable ASCII


class Problem(Exception):
    """An answer that is a problem: raised by the views, rendered by the handler below."""

    def __init__(self, status: int, title: str, detail: str, *, kind: str = "", errors=None):
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind
        self.errors = errors
        self.headers: dict[str, str] = {}


def problem_response(
    status: int, title: str, detail: str, *, kind: str = "", errors=None, headers=None
) -> HttpResponse:
    body = {
        "type": PROBLEM_TYPES_BASE + kind if kind else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class LumenApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Ninja's document, with the problems typed `application/problem+json` and the result
        download described as what it is (a redirect, or the converted file)."""
        # The API's URLs are nested in the `api` namespace: ninja's reverse would miss them.
        schema = super().get_openapi_schema(
            path_prefix=API_ROOT if path_prefix is None else path_prefix, path_params=path_params
        )
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    json_content = content.get("application/json")
                    if json_content and "Problem" in str(json_content.get("schema", {})):
                        response["content"] = {PROBLEM_TYPE: json_content}
                    if code == "302":
                        response.pop("content", None)
                        response["headers"] = {
                            "Location": {
                                "description": "A signed URL of the file; it expires",
                                "schema": {"type": "string"},
                            }
                        }
                    if code == "200" and operation.get("operationId", "").endswith("job_result"):
                        binary = {"schema": {"type": "string", "format": "binary"}}
                        response["content"] = {
                            "image/png": binary,
                            "image/jpeg": binary,
                            "image/webp": binary,
                        }
        return schema


api = LumenApi(
    title="Lumen API",
    version="1",
    description=(
        "Enhance images from your own apps. Authenticate with `Authorization: Bearer <key>` "
        "(keys are made on your account page, for plans with API access). Every response "
        "carries `X-Tokens-Remaining`; an order carries `X-Tokens-Cost`. Errors are RFC 9457 "
        "problem details. Send an `Idempotency-Key` header with each order: a retry with the "
        "same key returns the first job, never a second charge."
    ),
    auth=ApiKeyAuth(),
    urls_namespace="api_v1",
    docs_url=None,
    openapi_url="/openapi.json",
)

# --- errors -----------------------------------------------------------------------------------
_COMMON = (401, 403, 429)


def answers(ok: dict, *errors: int) -> dict:
    """The response models of an operation: its successes and every problem it may answer."""
    return {**ok, **{code: schemas.Problem for code in (*_COMMON, *errors)}}


@api.exception_handler(Problem)
def _problem(request, exc: Problem):
    return problem_response(
        exc.status, exc.title, exc.detail, kind=exc.kind, errors=exc.errors, headers=exc.headers
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem_response(
        401,
        "Unauthorized",
        "Send a live API key: `Authorization: Bearer <key>`. This one is missing, unknown or "
        "revoked.",
        kind="unauthorized",
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


@api.exception_handler(PlanLapsed)
def _plan_lapsed(request, exc):
    return problem_response(403, "No API access", PlanLapsed.message, kind="no-api-access")


@api.exception_handler(RateLimited)
def _rate_limited(request, exc: RateLimited):
    wait = ratelimit.retry_after(window_seconds=60)
    return problem_response(
        429,
        "Too many requests",
        exc.message,
        kind="rate-limited",
        headers={
            "Retry-After": str(wait),
            "RateLimit-Policy": f"{exc.limit};w=60",
            "RateLimit": f"limit={exc.limit}, remaining=0, reset={wait}",
        },
    )


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc):
    messages = []
    for error in exc.errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body",))
        messages.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg"))
    return problem_response(
        422,
        "Invalid request",
        " ".join(messages) or "The request is not valid.",
        kind="invalid",
        errors=messages,
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return problem_response(exc.status_code, "Error", str(exc))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem_response(404, "Not found", "No such object in your account.", kind="not-found")


def not_found(what: str) -> Problem:
    return Problem(404, "Not found", f"No such {what} in your account.", kind="not-found")


def _valid_id(value: str | None, what: str) -> str:
    if not value or not ID_PATTERN.fullmatch(value):
        raise not_found(what)
    return value


def _own_image(request, image_id: str) -> EnhancedImage:
    image = EnhancedImage.objects.filter(
        pk=_valid_id(image_id, "image"), user_id=request.auth.user_id
    ).first()
    if image is None:
        raise not_found("image")
    return image


def _own_job(request, job_id: str) -> ImageEnhancementJob:
    job = (
        ImageEnhancementJob.objects.select_related("image")
        .filter(pk=_valid_id(job_id, "job"), user_id=request.auth.user_id)
        .first()
    )
    if job is None:
        raise not_found("job")
    return job


# --- shapes -----------------------------------------------------------------------------------
def image_out(image: EnhancedImage) -> dict:
    return {
        "id": image.pk,
        "name": image.name,
        "width": image.original_width,
        "height": image.original_height,
        "size_bytes": image.original_size_bytes,
        "format": image.original_format,
        "created_at": image.created_at,
        "original_url": image.original_url,
    }


_PROGRESS = {
    JobStatus.PENDING: 0,
    JobStatus.FAILED: 0,
    JobStatus.PROCESSING: 50,
    JobStatus.COMPLETED: 100,
    JobStatus.REFUNDED: 100,
}


def job_out(job: ImageEnhancementJob) -> dict:
    result = None
    if job.status == JobStatus.COMPLETED:
        result = {
            "width": job.enhanced_width,
            "height": job.enhanced_height,
            "size_bytes": job.enhanced_size_bytes,
            "format": job.enhanced_format,
        }
    return {
        "id": job.pk,
        "image_id": job.image_id,
        "tier": job.tier,
        "status": job.status,
        "progress": _PROGRESS.get(job.status, 0),
        "tokens_cost": job.tokens_cost,
        "error": job.error_message,
        "next_attempt_at": job.next_attempt_at,
        "result": result,
        "created_at": job.created_at,
        "finished_at": job.processing_completed_at if job.is_finished else None,
    }


# --- endpoints --------------------------------------------------------------------------------
@api.get("/me", response=answers({200: schemas.Me}), tags=["account"])
def me(request):
    """Your balance, when the next free token comes, your plan and its limits."""
    user = request.auth.user
    status = tokens.get_balance_status(user)
    subscription = billing.subscription_of(user)
    plan = None
    if subscription is not None:
        plan_row = subscription.plan
        plan = {
            "name": plan_row.name if plan_row else "",
            "status": subscription.status,
            "api_access": billing.has_api_access(user.pk),
            "priority": billing.has_priority(user.pk),
            "tokens_per_month": subscription.tokens_per_month,
            "current_period_end": subscription.current_period_end,
        }
    limits = upload_limits()
    return {
        "id": user.pk,
        "balance": status.balance,
        "balance_cap": status.cap,
        "next_token_at": status.next_token_at,
        "plan": plan,
        "limits": {
            "requests_per_minute": settings.API_RATE_PER_MINUTE,
            "orders_per_minute": settings.ENHANCEMENT_ORDER_RATE_PER_MINUTE,
            "uploads_per_minute": settings.UPLOAD_RATE_PER_MINUTE,
            "upload_max_bytes": limits.max_bytes,
            "upload_max_pixels": limits.max_pixels,
        },
    }


@api.post("/images", response=answers({201: schemas.Image}, 422, 503), tags=["images"])
def upload_image(
    request,
    file: UploadedFile = File(..., description="The photo: JPEG, PNG, WebP, HEIC..."),  # noqa: B008
    keep_location: bool = Form(False, description="Keep the GPS position of the photo"),
):
    """Upload one image (multipart/form-data). The very checks of the upload page, with the
    same messages: a refused file is a 422."""
    user = request.auth.user
    check_rate(
        key=f"upload:{user.pk}",
        limit=settings.UPLOAD_RATE_PER_MINUTE,
        message=f"Too many uploads: at most {settings.UPLOAD_RATE_PER_MINUTE} a minute.",
    )
    outcome = images.upload_images(user=user, files=[file], keep_location=keep_location)
    if outcome.rejected:
        rejected = outcome.rejected[0]
        status = 503 if rejected.code == "not_stored" else 422
        raise Problem(
            status,
            "Image refused",
            rejected.message,
            kind="not-stored" if status == 503 else "image-refused",
        )
    return Status(201, image_out(outcome.created[0].image))


def _encode_cursor(image: EnhancedImage) -> str:
    return base64.urlsafe_b64encode(image.pk.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (ValueError, UnicodeError):
        value = ""
    if not ID_PATTERN.fullmatch(value):
        raise Problem(400, "Bad cursor", "This cursor is not one we gave.", kind="bad-cursor")
    return value


@api.get("/images", response=answers({200: schemas.ImagePage}, 400), tags=["images"])
def list_images(
    request,
    cursor: str | None = Query(
        None, pattern=r"^[A-Za-z0-9_-]{1,100}$", description="`next_cursor` of a page"
    ),
    limit: int | None = Query(None, ge=1, le=100, description="Default: API_PAGE_SIZE"),
):
    """Your images, newest first, a page at a time."""
    queryset = EnhancedImage.objects.filter(user_id=request.auth.user_id).order_by(
        "-created_at", "-id"
    )
    if cursor:
        after = queryset.filter(pk=_decode_cursor(cursor)).first()
        if after is None:
            raise Problem(400, "Bad cursor", "This cursor is not one we gave.", kind="bad-cursor")
        queryset = queryset.filter(
            Q(created_at__lt=after.created_at) | Q(created_at=after.created_at, id__lt=after.pk)
        )
    limit = limit or settings.API_PAGE_SIZE
    page = list(queryset[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "items": [image_out(image) for image in page],
        "next_cursor": _encode_cursor(page[-1]) if more and page else None,
    }


@api.get("/images/{image_id}", response=answers({200: schemas.Image}, 404), tags=["images"])
def get_image(request, image_id: str):
    return image_out(_own_image(request, image_id))


@api.delete("/images/{image_id}", response=answers({204: None}, 404, 409), tags=["images"])
def delete_image(request, image_id: str):
    """Delete an image, its enhancements and their files. An image with an enhancement under
    way is a 409: wait for it, or cancel it."""
    image = _own_image(request, image_id)
    try:
        images.delete_image(image=image)
    except images.ImageBusy as exc:
        raise Problem(409, "Image busy", str(exc), kind="image-busy") from exc
    return Status(204, None)


@api.get("/tiers", response=answers({200: list[schemas.Tier]}, 404), tags=["enhancements"])
def list_tiers(
    request, image: str | None = Query(None, max_length=100, description="An image's id")
):
    """Each tier's cost and, for `image`, the exact output size: known before ordering."""
    subject = _own_image(request, image) if image is not None else None
    return [
        {
            "tier": option.value,
            "label": option.label,
            "tokens_cost": option.tokens_cost,
            "max_dimension": option.max_dimension,
            "width": option.width,
            "height": option.height,
        }
        for option in tier_options(subject)
    ]


def request_key_for(user_id: str, idempotency_key: str) -> str:
    """The job's `request_key` for a client's `Idempotency-Key`: per user, so two users'
    keys never meet, and 64 characters whatever the client sent."""
    digest = hashlib.sha256(f"{user_id}:{idempotency_key}".encode()).hexdigest()
    return f"api:{digest[:60]}"


def _check_idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not (1 <= len(value) <= IDEMPOTENCY_KEY_MAX) or not all(" " <= ch <= "~" for ch in value):
        raise Problem(
            400,
            "Bad Idempotency-Key",
            f"The Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII "
            "characters (a UUID is a good one).",
            kind="bad-idempotency-key",
        )
    return value


@api.post(
    "/images/{image_id}/enhancements",
    response=answers({201: schemas.Job}, 400, 402, 404, 422),
    tags=["enhancements"],
)
def order(
    request,
    image_id: str,
    payload: schemas.OrderIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Any unique string (a UUID): a retry with it returns the first job",
    ),
):
    """Order an enhancement: the tier's tokens are spent and the job is queued. A retry with
    the same `Idempotency-Key` returns the first job (`Idempotent-Replayed: true`) and spends
    nothing; the same key with another image or tier is a 422."""
    user = request.auth.user
    idempotency_key = _check_idempotency_key(idempotency_key)
    image = _own_image(request, image_id)
    request_key = request_key_for(user.pk, idempotency_key) if idempotency_key else None
    if (
        request_key is None
        or not ImageEnhancementJob.objects.filter(request_key=request_key).exists()
    ):
        limit = settings.ENHANCEMENT_ORDER_RATE_PER_MINUTE
        check_rate(
            key=f"enhancement-order:{user.pk}",
            limit=limit,
            message=f"Too many orders: at most {limit} a minute. Wait, then try again.",
        )
    started = timezone.now()
    try:
        job = ordering.order_enhancement(
            user=user,
            image=image,
            tier=str(payload.tier.value),
            request_key=request_key,
            auto_adjust=payload.auto_adjust,
        )
    except InvalidTier as exc:
        raise Problem(422, "Unknown tier", str(exc), kind="invalid-tier") from exc
    except tokens.InsufficientTokens as exc:
        raise Problem(402, "Not enough tokens", str(exc), kind="insufficient-tokens") from exc
    except JobError as exc:
        raise Problem(422, "Cannot order", str(exc), kind="cannot-order") from exc
    if job.image_id != image.pk or job.tier != payload.tier.value:
        raise Problem(
            422,
            "Idempotency-Key reused",
            "This Idempotency-Key was already used for another order. Use a new key for a "
            "new order.",
            kind="idempotency-key-reused",
        )
    response["X-Tokens-Cost"] = str(job.tokens_cost)
    if job.created_at < started:
        response["Idempotent-Replayed"] = "true"
    return Status(201, job_out(job))


@api.get("/jobs/{job_id}", response=answers({200: schemas.Job}, 404), tags=["enhancements"])
def get_job(request, job_id: str):
    """A job's status, progress, error and result size: poll it, or receive a webhook."""
    return job_out(_own_job(request, job_id))


@api.post(
    "/jobs/{job_id}/cancel", response=answers({200: schemas.Job}, 404, 409), tags=["enhancements"]
)
def cancel_job(request, job_id: str):
    """Cancel a job still waiting (its tokens come back). A running or finished job is a 409."""
    job = _own_job(request, job_id)
    try:
        job = transitions.cancel_job(user=request.auth.user, job=job)
    except JobError as exc:
        raise Problem(409, "Cannot cancel", str(exc), kind="not-cancellable") from exc
    return job_out(job)


@api.get(
    "/jobs/{job_id}/result",
    response=answers({200: None, 302: None}, 400, 404, 409),
    tags=["enhancements"],
    url_name="job_result",
    operation_id="job_result",
)
def job_result(
    request,
    job_id: str,
    format: Literal["png", "jpeg", "webp"] | None = Query(None, description="Convert to"),
    quality: int | None = Query(None, ge=1, le=100, description="For jpeg and webp"),
):
    """The enhanced image. Without `format`: a redirect (302) to a signed URL of the file as
    stored (it expires; follow it at once). With `format`: the file converted (200)."""
    job = _own_job(request, job_id)
    if job.status != JobStatus.COMPLETED or not job.enhanced_r2_key:
        raise Problem(409, "No result", "This enhancement has no result (yet).", kind="no-result")
    form = DownloadForm({"format": format or "", "quality": "" if quality is None else quality})
    if not form.is_valid():
        messages = [e for errors in form.errors.values() for e in errors]
        raise Problem(400, "Bad download", " ".join(messages), kind="bad-download")
    fmt = form.cleaned_data["format"]
    if not fmt:
        key = job.enhanced_r2_key.name
        extension = posixpath.splitext(key)[1].lstrip(".") or "img"
        redirect = HttpResponseRedirect(
            storage.url_for(key, download_name=export.download_name(job, extension))
        )
        redirect["Cache-Control"] = "private, no-store"
        return redirect
    try:
        exported = export.export_result(job=job, fmt=fmt, quality=form.cleaned_data["quality"])
    except JobError as exc:
        raise Problem(409, "No result", str(exc), kind="no-result") from exc
    download = HttpResponse(exported.data, content_type=exported.content_type)
    download["Content-Disposition"] = storage.attachment_header(exported.filename)
    download["Cache-Control"] = "private, no-store"
    return download


# --- the URLconf ------------------------------------------------------------------------------
def _with_balance(view):
    """Around each of ninja's views: the caller's balance on every answer to a known key."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        response = view(request, *args, **kwargs)
        key = getattr(request, "auth", None)
        if key is not None and hasattr(key, "user_id"):
            response["X-Tokens-Remaining"] = str(tokens.get_balance(key.user_id))
        return response

    return wrapped


def urlpatterns() -> tuple[list, str, str]:
    patterns, app_name, namespace = api.urls
    wrapped = [
        URLPattern(p.pattern, _with_balance(p.callback), p.default_args, p.name)
        if isinstance(p, URLPattern)
        else p
        for p in patterns
    ]
    return wrapped, app_name, namespace
