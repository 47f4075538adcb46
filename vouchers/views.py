"""Redeeming a voucher: the form's POST (from the tokens page or the redeem page) and the
campaign link /redeem/<code>/ that pre-fills it."""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from core import ratelimit
from vouchers import selectors, services
from vouchers.forms import RedeemForm

HOUR = 3600
SESSION_KEY = "voucher_code"  # a code from a link, kept while the visitor signs up


def _client_ip(request) -> str:
    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:  # no address at all (a test client without REMOTE_ADDR)
        return ""


def _allowed(request) -> bool:
    """One try at a code, counted per user and per IP (both count even when one refuses)."""
    by_user = ratelimit.hit(
        key=f"voucher-redeem:user:{request.user.pk}",
        limit=settings.VOUCHER_REDEEM_PER_HOUR_USER,
        window_seconds=HOUR,
    )
    by_ip = ratelimit.hit(
        key=f"voucher-redeem:ip:{_client_ip(request)}",
        limit=settings.VOUCHER_REDEEM_PER_HOUR_IP,
        window_seconds=HOUR,
    )
    return by_user and by_ip


def _page(request, form, *, status=200, error="", retry_after=None):
    response = render(
        request,
        "vouchers/redeem.html",
        {"form": form, "error": error, "waiting": selectors.waiting_for(request.user)},
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@require_http_methods(["GET", "POST"])
def redeem(request):
    """GET: the redeem form (pre-filled from ?code=). POST: redeem it; the outcome on the
    tokens page, or the form again with the reason (400, 429 when trying too often)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.method == "GET":
        form = RedeemForm(initial={"code": request.GET.get("code", "")[:72]})
        return _page(request, form)
    form = RedeemForm(request.POST)
    if not _allowed(request):
        minutes = max(1, round(ratelimit.retry_after(window_seconds=HOUR) / 60))
        return _page(
            request,
            form,
            status=429,
            error=(
                "Too many attempts at redeeming a code. Try again in about "
                f"{minutes} minute{'s' if minutes != 1 else ''}."
            ),
            retry_after=ratelimit.retry_after(window_seconds=HOUR),
        )
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        outcome = services.redeem(user=request.user, code=form.cleaned_data["code"])
    except services.VoucherError as exc:
        return _page(request, form, status=400, error=exc.message)
    request.session.pop(SESSION_KEY, None)
    messages.success(request, outcome.message)
    return redirect("tokens:page")


def redeem_link(request, code: str):
    """/redeem/<code>/: a code that could not exist is a 404 before any query (and before any
    sign-in); otherwise the redeem form pre-filled. A visitor gets a page with sign-up and
    sign-in links that come back here through `next` (whether the code exists is not said).
    Nothing is redeemed by following a link."""
    normal = services.parse_code(code)
    if normal is None:
        raise Http404("No such voucher link.")
    if not request.user.is_authenticated:
        request.session[SESSION_KEY] = normal
        query = urlencode({"next": reverse("vouchers:link", args=[normal])})
        return render(
            request,
            "vouchers/link_visitor.html",
            {
                "code": normal,
                "signup_url": f"{reverse('account_signup')}?{query}",
                "login_url": f"{reverse('account_login')}?{query}",
            },
        )
    return redirect(f"{reverse('tokens:page')}?{urlencode({'code': normal})}#redeem")
