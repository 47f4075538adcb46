"""The "Download my data" pages: start an export, its state (an htmx fragment), and the
download.

The download link is signed and expires; it also needs its owner signed in: another account,
or a link that was not made here, gets a 404; an expired link or export a 410 page that offers a
new export.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from accounts.exports import files, services
from accounts.exports.presenters import ExportCard
from accounts.models import DataExport
from core import ratelimit

DAY = 24 * 60 * 60
CARD_TEMPLATE = "accounts/_data_export.html"


def _back() -> str:
    return reverse("accounts:profile") + "#data-export"


def _card(request, *, status: int = 200):
    return render(request, CARD_TEMPLATE, {"request": request}, status=status)


def _problem(request, *, title: str, message: str, status: int, offer_new: bool = False):
    return render(
        request,
        "accounts/data_export_problem.html",
        {"title": title, "message": message, "offer_new": offer_new, "back_url": _back()},
        status=status,
    )


@login_required
@require_POST
def start(request):
    """Start an export (one at a time; `DATA_EXPORTS_PER_DAY` a day)."""
    card = ExportCard.for_user(request.user)
    if card.under_way:  # a second click, or a second tab
        messages.info(request, "Your data is already being prepared.")
        return redirect(_back())
    if not ratelimit.hit(
        key=f"data-export:{request.user.pk}",
        limit=settings.DATA_EXPORTS_PER_DAY,
        window_seconds=DAY,
    ):
        response = _problem(
            request,
            title="Too many exports today",
            message=(
                f"You can ask for {settings.DATA_EXPORTS_PER_DAY} exports of your data a day. "
                "Please try again tomorrow; your last export stays available until it expires."
            ),
            status=429,
        )
        response["Retry-After"] = str(ratelimit.retry_after(window_seconds=DAY))
        return response
    try:
        services.request_export(user=request.user)
    except services.ExportUnderWay:
        messages.info(request, "Your data is already being prepared.")
    else:
        messages.success(
            request,
            "We are preparing your data: a few minutes for most accounts. We will e-mail you "
            "a link when it is ready.",
        )
    return redirect(_back())


@login_required
@require_safe
def status(request):
    """The export card alone (polled by htmx while an export is under way); without htmx, the
    account page where the card is."""
    if not request.htmx:
        return redirect(_back())
    return _card(request)


@require_safe
def download(request, export_token: str):
    # The signature first (no query): a link not made here is a 404 for everyone; a real one
    # asks a visitor who is not signed in to sign in, then comes back here.
    try:
        link = services.read_token(export_token)
    except signing.BadSignature as exc:
        raise Http404("No such export.") from exc
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if link.user_id != request.user.pk:
        raise Http404("No such export.")
    export = DataExport.objects.filter(pk=link.export_id, user=request.user).first()
    if export is None:
        raise Http404("No such export.")
    if link.expired or not services.is_downloadable(export):
        if export.is_active:  # a link of an export that is still being made: not yet
            return _problem(
                request,
                title="Not ready yet",
                message="Your data is still being prepared. We will e-mail you when it is ready.",
                status=409,
            )
        return _problem(
            request,
            title="This download has expired",
            message=(
                f"Exports are kept for {settings.DATA_EXPORT_LINK_DAYS} days and this one has "
                "been deleted. Ask for a new one: it takes a few minutes."
            ),
            status=410,
            offer_new=True,
        )
    filename = services.download_filename(export)
    if files.is_local():
        try:
            fh = files.open_file(export.storage_key)
        except (FileNotFoundError, OSError) as exc:
            raise Http404("No such export.") from exc
        response = FileResponse(
            fh, as_attachment=True, filename=filename, content_type="application/zip"
        )
    else:
        response = HttpResponseRedirect(
            files.download_url(
                export.storage_key, content_disposition=f'attachment; filename="{filename}"'
            )
        )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
