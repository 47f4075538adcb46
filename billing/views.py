"""Pricing, checkout, the return from Checkout, the billing page and the customer portal. Thin:
the services start Checkout; tokens are granted only by the webhook (`billing.webhooks`)."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing import payments, selectors, stripe_api, subscriptions
from billing.errors import BillingError
from billing.forms import CheckoutReturnForm

PAYMENTS_PAGE_SIZE = 25
# The Checkout sessions this browser started, so that the success page knows whose they are
# before the webhook has recorded anything: {session id: {"kind", "returned_at"}}.
CHECKOUTS = "billing_checkouts"
CHECKOUTS_KEPT = 20


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303  # after a POST, the browser GETs the next page
    return response


def _absolute(request, name: str) -> str:
    return request.build_absolute_uri(reverse(name))


def _remember_checkout(request, session_id: str, kind: str) -> None:
    started = dict(request.session.get(CHECKOUTS, {}))
    started[session_id] = {"kind": kind}
    request.session[CHECKOUTS] = dict(list(started.items())[-CHECKOUTS_KEPT:])


@require_GET
def pricing(request):
    """The packs and plans on sale, with the user's balance and plan; buying starts here."""
    context = {
        "packs": selectors.packs_on_sale(),
        "plans": selectors.plans_on_sale(),
        "configured": stripe_api.is_configured(),
        "cancelled": request.GET.get("cancelled") == "1",
        "subscription": None,
    }
    if request.user.is_authenticated:
        context["subscription"] = selectors.subscription_of(request.user)
    return render(request, "billing/pricing.html", context)


def _start(request, start, kind: str):
    try:
        session = start(
            user=request.user,
            success_url=_absolute(request, "billing:success") + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=_absolute(request, "billing:pricing") + "?cancelled=1",
        )
    except BillingError as error:
        messages.error(request, str(error))
        return _see_other(reverse("billing:pricing"))
    _remember_checkout(request, session["id"], kind)
    return _see_other(session["url"])


@login_required
@require_POST
def buy_pack(request, package_id):
    """Off to Stripe Checkout for one pack."""
    package = get_object_or_404(selectors.packs_on_sale(), pk=package_id)
    return _start(
        request,
        lambda **urls: payments.start_pack_checkout(package=package, **urls),
        payments.PACK,
    )


@login_required
@require_POST
def subscribe(request, plan_id):
    """Off to Stripe Checkout for a monthly plan (or back with why not)."""
    plan = get_object_or_404(selectors.plans_on_sale(), pk=plan_id)
    return _start(
        request,
        lambda **urls: subscriptions.start_plan_checkout(plan=plan, **urls),
        subscriptions.PLAN,
    )


def _checkout_state(request):
    """(context, status) of the return from Checkout named in the query; 404 for a session
    that is not this user's."""
    form = CheckoutReturnForm(request.GET)
    if not form.is_valid():
        return {"form": form}, 400
    session_id = form.cleaned_data["session_id"]
    started = request.session.get(CHECKOUTS, {})
    if session_id in started:
        kind = started[session_id]["kind"]
    elif selectors.payments_of(request.user).filter(stripe_checkout_session_id=session_id).exists():
        kind = payments.PACK
    else:
        raise Http404("No such checkout")
    now = timezone.now()
    waited = dt.timedelta(0)
    if session_id in started:
        if "returned_at" not in started[session_id]:
            started[session_id]["returned_at"] = now.isoformat()
            request.session[CHECKOUTS] = started  # written once, not at every poll
        waited = now - dt.datetime.fromisoformat(started[session_id]["returned_at"])
    state = selectors.checkout_state(request.user, session_id=session_id, kind=kind)
    return {
        "form": form,
        "session_id": session_id,
        "checkout": state,
        "late": not state.final and waited.total_seconds() >= settings.BILLING_WEBHOOK_LATE_SECONDS,
        "poll_seconds": settings.BILLING_SUCCESS_POLL_SECONDS,
    }, 200


@login_required
@require_GET
def success(request):
    """Back from Checkout: waits for the webhook's grant (the state below refreshes itself),
    then shows the new balance. Nothing is granted here."""
    context, status = _checkout_state(request)
    return render(request, "billing/success.html", context, status=status)


@login_required
@require_GET
def success_status(request):
    """The state of the return from Checkout alone, polled by the success page (htmx)."""
    context, status = _checkout_state(request)
    return render(request, "billing/_checkout_state.html", context, status=status)


@login_required
@require_GET
def page(request):
    """The user's payments and plan, and the way to Stripe's customer portal."""
    history = Paginator(selectors.payments_of(request.user), PAYMENTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "billing/page.html",
        {
            "payments": history,
            "subscription": selectors.subscription_of(request.user),
            "configured": stripe_api.is_configured(),
        },
    )


@login_required
@require_POST
def portal(request):
    """Off to Stripe's customer portal (card, plan change, cancellation)."""
    try:
        url = subscriptions.portal_url(
            user=request.user, return_url=_absolute(request, "billing:page")
        )
    except BillingError as error:
        messages.error(request, str(error))
        return _see_other(reverse("billing:page"))
    return _see_other(url)
