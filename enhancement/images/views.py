"""Pages of the image library: the grid, the upload form, an image and its actions.

Every image is loaded with its owner in the query (`get_object_or_404(..., user=request.user)`):
anyone else gets 404, never 403, for every page, file and action. Files are never served from
here: pages link to signed, expiring URLs (`storage.url_for`); the original's download goes
through `download_original`, which checks ownership and redirects to such a URL.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core import ratelimit
from enhancement import imaging, storage
from enhancement.images import archive, forms, selectors, services
from enhancement.images.presenters import (
    GRID_SIZES,
    PREVIEW_SIZES,
    ImageView,
    download_name,
    result_name,
)
from enhancement.models import EnhancedImage


def _own_image(request, image_id: str) -> EnhancedImage:
    return get_object_or_404(EnhancedImage, pk=image_id, user=request.user)


# --- the library --------------------------------------------------------------------------------
@login_required
@require_safe
def library(request):
    filter_form = forms.LibraryFilterForm(request.GET)
    filters = filter_form.filters()
    page = selectors.library_page(user=request.user, page_number=request.GET.get("page"), **filters)
    cards = [ImageView.of(image) for image in page.object_list]
    # what the pagination links carry over (the default order goes without saying)
    kept = {"q": filters["query"], "sort": "" if filters["sort"] == "newest" else filters["sort"]}
    kept = {key: value for key, value in kept.items() if value}
    return render(
        request,
        "enhancement/library.html",
        {
            "page": page,
            "cards": cards,
            "grid_sizes": GRID_SIZES,
            "filter_form": filter_form,
            "filters": filters,
            "sort_label": selectors.LIBRARY_SORTS[filters["sort"]][0].lower(),
            "kept_query": urlencode(kept),
        },
    )


@login_required
@require_POST
def download_results(request):
    """The newest enhanced result of each ticked image, as one zip streamed as it is written."""
    form = forms.ResultsArchiveForm(request.POST)
    if not form.is_valid():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        messages.error(request, message)
        return redirect("images:library")
    jobs = selectors.latest_results(user=request.user, image_ids=form.cleaned_data["image_ids"])
    if not jobs:
        messages.error(
            request, "None of the ticked images has an enhanced result yet: enhance them first."
        )
        return redirect("images:library")
    names = archive.unique_names(result_name(job) for job in jobs)
    response = StreamingHttpResponse(
        archive.zip_stream(
            (name, job.enhanced_r2_key.name) for name, job in zip(names, jobs, strict=True)
        ),
        content_type="application/zip",
    )
    response["Content-Disposition"] = storage.attachment_header(
        f"lumen-enhanced-{len(jobs)}-images.zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
def badge(request, image_id: str):
    """The library card's badge of one image, for htmx while its enhancement is under way."""
    image = get_object_or_404(
        selectors.with_latest_job(EnhancedImage.objects.filter(user=request.user)), pk=image_id
    )
    return render(
        request, "enhancement/_image_badge.html", {"image": image, "card": ImageView.of(image)}
    )


# --- upload -------------------------------------------------------------------------------------
def _upload_context(form, outcome=None, **extra):
    created = []
    if outcome is not None:
        created = [(c, ImageView.of(c.image)) for c in outcome.created]
    return {
        "form": form,
        "outcome": outcome,
        "created": created,
        "files_total": len(outcome.created) + len(outcome.rejected) if outcome else 0,
        "max_files": settings.UPLOAD_MAX_FILES,
        "max_bytes": settings.UPLOAD_MAX_BYTES,
        "accepted_types": imaging.ACCEPTED_TYPES_TEXT,
        **extra,
    }


@csrf_protect
@require_http_methods(["GET", "POST"])
def _upload(request):
    if request.method == "GET":
        return render(request, "enhancement/upload.html", _upload_context(forms.UploadForm()))

    form = forms.UploadForm(request.POST, request.FILES)
    key = f"upload:{request.user.pk}"
    if not ratelimit.hit(key=key, limit=settings.UPLOAD_RATE_PER_MINUTE, window_seconds=60):
        response = render(
            request,
            "enhancement/upload.html",
            _upload_context(
                forms.UploadForm(),
                error=(
                    "You have uploaded a lot in the last minute. Nothing was uploaded this time: "
                    "please wait a minute and try again."
                ),
            ),
            status=429,
        )
        response["Retry-After"] = str(ratelimit.retry_after())
        return response
    if not form.is_valid():
        return render(request, "enhancement/upload.html", _upload_context(form), status=400)

    outcome = services.upload_images(
        user=request.user,
        files=form.cleaned_data["files"],
        keep_location=form.cleaned_data["keep_location"],
    )
    status = 200 if outcome.created else 400
    return render(
        request,
        "enhancement/upload.html",
        _upload_context(forms.UploadForm(), outcome),
        status=status,
    )


# CSRF is checked by `_upload` (csrf_protect) after our upload handler is in place: Django reads
# the request body when checking the token, and handlers cannot be changed after that.
@csrf_exempt
@login_required
def upload(request):
    if request.method == "POST":
        request.upload_handlers.insert(
            0, forms.SizeLimitUploadHandler(request, max_bytes=settings.UPLOAD_MAX_BYTES)
        )
    try:
        return _upload(request)
    except (TooManyFilesSent, TooManyFieldsSent):
        # Far more than our form sends (DATA_UPLOAD_MAX_* settings): a page, not a bare 400.
        error = (
            f"That was too much in one go. You can upload at most {settings.UPLOAD_MAX_FILES} "
            "files at once; nothing was uploaded."
        )
    except (MultiPartParserError, RequestDataTooBig):
        error = "The upload did not arrive whole, so nothing was uploaded. Please try again."
    return render(
        request,
        "enhancement/upload.html",
        _upload_context(forms.UploadForm(), error=error),
        status=400,
    )


# --- one image ----------------------------------------------------------------------------------
def _render_detail(request, image, *, edit_form=None, status=200):
    image_view = ImageView.of(image)
    return render(
        request,
        "enhancement/image_detail.html",
        {
            "image": image,
            "view": image_view,
            "edit_form": edit_form or forms.ImageEditForm(instance=image),
            "preview_sizes": PREVIEW_SIZES,
        },
        status=status,
    )


@require_safe
def detail(request, image_id: str):
    """The owner's page of an image. Anyone else sees a published image read-only (its preview,
    never the original, and each such view is counted); an unpublished one is 404 to a signed-in
    stranger, and a visitor who is not signed in is sent to log in, so neither learns whether
    the id exists."""
    image = EnhancedImage.objects.filter(pk=image_id).select_related("user").first()
    if image is not None and request.user.is_authenticated and image.user_id == request.user.pk:
        return _render_detail(request, image)
    if image is None or not image.is_public:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404("No such image.")
    services.record_view(image=image, viewer=request.user)
    image.refresh_from_db(fields=["view_count"])
    return render(
        request,
        "enhancement/image_public.html",
        {"image": image, "view": ImageView.of(image), "preview_sizes": PREVIEW_SIZES},
    )


@login_required
@require_POST
def edit(request, image_id: str):
    image = _own_image(request, image_id)
    form = forms.ImageEditForm(request.POST, instance=EnhancedImage.objects.get(pk=image.pk))
    if not form.is_valid():
        return _render_detail(request, image, edit_form=form, status=400)
    services.update_image(
        image=image,
        name=form.cleaned_data["name"],
        description=form.cleaned_data["description"],
    )
    messages.success(request, "Saved.")
    return redirect("images:detail", image_id=image.pk)


@login_required
@require_POST
def publish(request, image_id: str):
    image = _own_image(request, image_id)
    form = forms.PublishForm(request.POST)
    form.is_valid()  # a lone checkbox: anything but a truthy value means "not public"
    is_public = bool(form.cleaned_data.get("is_public"))
    services.set_public(image=image, is_public=is_public)
    messages.success(
        request,
        "Published to the public gallery." if is_public else "Removed from the public gallery.",
    )
    return redirect("images:detail", image_id=image.pk)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request, image_id: str):
    image = _own_image(request, image_id)
    if request.method == "POST":
        try:
            services.delete_image(image=image)
        except services.ImageBusy as exc:
            return render(
                request,
                "enhancement/image_confirm_delete.html",
                {"image": image, "view": ImageView.of(image), "error": str(exc)},
                status=409,
            )
        messages.success(request, f"“{image.name}” was deleted.")
        return redirect("images:library")
    return render(
        request,
        "enhancement/image_confirm_delete.html",
        {"image": image, "view": ImageView.of(image)},
    )


@login_required
@require_safe
def download_original(request, image_id: str):
    image = _own_image(request, image_id)
    url = storage.url_for(image.original_r2_key.name, download_name=download_name(image))
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "private, no-store"
    return response
