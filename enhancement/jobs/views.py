"""Pages and actions of enhancement jobs: order, status (polled by htmx), cancel, download,
batch order.

Every job and image is loaded with its owner in the query: anyone else gets 404, never 403.
A problem with what was sent (a bad tier, too few tokens, too many orders a minute, a job that
can no longer be cancelled) answers a 4xx page with one clear sentence and a way back.
"""

from __future__ import annotations

import posixpath
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from core import ratelimit
from enhancement import storage
from enhancement.images.presenters import thumb_url
from enhancement.jobs import export, ordering, selectors, transitions
from enhancement.jobs.errors import JobError
from enhancement.jobs.forms import BatchForm, DownloadForm, OrderForm
from enhancement.jobs.presenters import JobCard
from enhancement.jobs.tiers import tier_label
from enhancement.models import EnhancedImage, ImageEnhancementJob, JobStatus
from tokens import services as tokens


def _problem(request, *, title: str, message: str, status: int, back_url: str, tokens_link=False):
    return render(
        request,
        "enhancement/jobs/problem.html",
        {"title": title, "message": message, "back_url": back_url, "tokens_link": tokens_link},
        status=status,
    )


def _own_job(request, job_id: str) -> ImageEnhancementJob:
    job = selectors.job_for_user(user=request.user, job_id=job_id)
    if job is None:
        raise Http404("No such enhancement.")
    return job


def _order_allowed(user) -> bool:
    return ratelimit.hit(
        key=f"enhancement-order:{user.pk}", limit=settings.ENHANCEMENT_ORDER_RATE_PER_MINUTE
    )


def too_fast_message() -> str:
    limit = settings.ENHANCEMENT_ORDER_RATE_PER_MINUTE
    return (
        "You are ordering enhancements very quickly. Wait a minute, then try again "
        f"(at most {limit} order{'s' if limit != 1 else ''} a minute)."
    )


# --- order one ----------------------------------------------------------------------------------
@login_required
@require_POST
def order(request, image_id: str):
    image = get_object_or_404(EnhancedImage, pk=image_id, user=request.user)
    back = reverse("images:detail", args=[image.pk])
    form = OrderForm(request.POST)
    if not form.is_valid():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        return _problem(request, title="Choose a tier", message=message, status=400, back_url=back)
    if not _order_allowed(request.user):
        response = _problem(
            request,
            title="Too many orders",
            message=too_fast_message(),
            status=429,
            back_url=back,
        )
        response["Retry-After"] = str(ratelimit.retry_after())
        return response
    try:
        job = ordering.order_enhancement(
            user=request.user,
            image=image,
            tier=form.cleaned_data["tier"],
            request_key=form.cleaned_data["request_key"],
            auto_adjust=form.cleaned_data["auto_adjust"],
        )
    except tokens.InsufficientTokens as exc:
        return _problem(
            request,
            title="Not enough tokens",
            message=str(exc),
            status=402,
            back_url=back,
            tokens_link=True,
        )
    except JobError as exc:
        return _problem(request, title="Not ordered", message=str(exc), status=400, back_url=back)
    messages.success(
        request,
        f"Your {tier_label(job.tier)} enhancement is on its way "
        f"({job.tokens_cost} tokens). This page updates when it is done.",
    )
    return redirect(f"{back}#job-{job.pk}")


# --- one job --------------------------------------------------------------------------------------
@login_required
@require_safe
def detail(request, job_id: str):
    """The job's card: the fragment alone for htmx polling, a whole page otherwise."""
    job = _own_job(request, job_id)
    context = {"card": JobCard.of(job, job.image), "image": job.image}
    if request.htmx:
        response = render(request, "enhancement/jobs/_job.html", context)
    else:
        response = render(request, "enhancement/jobs/detail.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def cancel(request, job_id: str):
    job = _own_job(request, job_id)
    back = reverse("images:detail", args=[job.image_id])
    try:
        job = transitions.cancel_job(user=request.user, job=job)
    except JobError as exc:
        if request.htmx:
            job.refresh_from_db()
            context = {"card": JobCard.of(job, job.image), "image": job.image, "error": str(exc)}
            return render(request, "enhancement/jobs/_job.html", context, status=409)
        return _problem(request, title="Not cancelled", message=str(exc), status=409, back_url=back)
    if request.htmx:
        return render(request, "enhancement/jobs/_job.html", {"card": JobCard.of(job, job.image)})
    messages.success(
        request, f"Cancelled. Your {job.tokens_cost} tokens were returned to your balance."
    )
    return redirect(back)


@login_required
@require_safe
def download(request, job_id: str):
    """The enhanced file: as stored (a redirect to its signed URL, with a download name), or
    converted to PNG, JPEG or WebP at a chosen quality (streamed from here)."""
    job = _own_job(request, job_id)
    if job.status != JobStatus.COMPLETED or not job.enhanced_r2_key:
        raise Http404("This enhancement has no result yet.")
    form = DownloadForm(request.GET)
    if not form.is_valid():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        return _problem(
            request,
            title="Cannot download",
            message=message,
            status=400,
            back_url=reverse("images:detail", args=[job.image_id]),
        )
    fmt = form.cleaned_data["format"]
    if not fmt:
        key = job.enhanced_r2_key.name
        extension = posixpath.splitext(key)[1].lstrip(".") or "img"
        response = HttpResponseRedirect(
            storage.url_for(key, download_name=export.download_name(job, extension))
        )
    else:
        try:
            exported = export.export_result(job=job, fmt=fmt, quality=form.cleaned_data["quality"])
        except JobError as exc:
            return _problem(
                request,
                title="Cannot download",
                message=str(exc),
                status=409,
                back_url=reverse("images:detail", args=[job.image_id]),
            )
        response = HttpResponse(exported.data, content_type=exported.content_type)
        response["Content-Disposition"] = storage.attachment_header(exported.filename)
        response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- batch ----------------------------------------------------------------------------------------
@login_required
@require_POST
def batch(request):
    """From the library: the first POST shows what would be ordered and the total cost; the
    confirmation page's POST (`confirm=1`) orders it."""
    back = reverse("images:library")
    form = BatchForm(request.POST, user=request.user)
    if not form.is_valid():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        return _problem(
            request, title="Nothing ordered", message=message, status=400, back_url=back
        )
    data = form.cleaned_data
    try:
        plan = ordering.plan_batch(
            user=request.user,
            images=data["images"],
            tier=data["tier"],
            skip_already_enhanced=data["skip_already_enhanced"],
        )
    except JobError as exc:
        return _problem(
            request, title="Nothing ordered", message=str(exc), status=400, back_url=back
        )
    if not data["confirm"]:
        return _render_batch_confirm(request, plan, form_data=data)

    if not _order_allowed(request.user):
        response = _render_batch_confirm(
            request, plan, form_data=data, error=too_fast_message(), status=429
        )
        response["Retry-After"] = str(ratelimit.retry_after())
        return response
    try:
        created = ordering.order_batch(
            user=request.user,
            images=data["images"],
            tier=data["tier"],
            skip_already_enhanced=data["skip_already_enhanced"],
            request_key=data["request_key"],
        )
    except tokens.InsufficientTokens as exc:
        return _render_batch_confirm(request, plan, form_data=data, error=str(exc), status=402)
    except JobError as exc:
        return _problem(
            request, title="Nothing ordered", message=str(exc), status=400, back_url=back
        )
    total = sum(job.tokens_cost for job in created)
    skipped = len(data["images"]) - len(created)
    text = (
        f"{len(created)} {plan.tier_label} enhancement{'s' if len(created) != 1 else ''} "
        f"ordered for {total} tokens."
    )
    if skipped > 0:
        text += f" {skipped} image{'s were' if skipped != 1 else ' was'} skipped."
    messages.success(request, text)
    return redirect(back)


def _render_batch_confirm(request, plan, *, form_data, error: str = "", status: int = 200):
    balance = tokens.get_balance(request.user)
    return render(
        request,
        "enhancement/jobs/batch_confirm.html",
        {
            "plan": plan,
            "to_order": [(image, thumb_url(image)) for image in plan.to_order],
            "skipped": plan.skipped,
            "balance": balance,
            "enough": balance >= plan.total_cost,
            "shortfall": max(0, plan.total_cost - balance),
            "image_ids": [image.pk for image in form_data["images"]],
            "skip_already_enhanced": form_data["skip_already_enhanced"],
            "request_key": form_data.get("request_key") or uuid.uuid4().hex,
            "error": error,
        },
        status=status,
    )
