"""The account's API pages (keys, webhooks: session pages with CSRF) and the reference page
(public, rendered here from the OpenAPI document: no script, so the strict CSP holds)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from billing import selectors as billing
from enhancement.api import services
from enhancement.api.api import api
from enhancement.api.forms import ApiKeyForm, WebhookEndpointForm
from enhancement.api.presenters import PROBLEMS, reference_operations
from enhancement.models import ApiKey, WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 20


def _keys_page(request, *, form, new_key=None, status=200):
    context = {
        "api_access": billing.has_api_access(request.user.pk),
        "keys": ApiKey.objects.filter(user=request.user),
        "form": form,
        "new_key": new_key,
    }
    return render(request, "enhancement/api/keys.html", context, status=status)


@login_required
def keys(request):
    """The user's keys; a POST makes one, shown once on the answer (never stored)."""
    if request.method != "POST":
        return _keys_page(request, form=ApiKeyForm())
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _keys_page(request, form=form, status=400)
    try:
        made = services.create_api_key(user=request.user, name=form.cleaned_data["name"])
    except services.ApiError as exc:
        form.add_error(None, str(exc))
        return _keys_page(
            request, form=form, status=403 if isinstance(exc, services.NoApiAccess) else 400
        )
    response = _keys_page(request, form=ApiKeyForm(), new_key=made)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def key_revoke(request, key_id: str):
    key = services.revoke_api_key(user=request.user, key_id=key_id)
    if key is None:
        raise Http404("No such key.")
    messages.success(request, f"Revoked the key “{key.name}”: it no longer works.")
    return redirect("api:keys")


def _webhooks_page(request, *, form, status=200):
    endpoints = list(WebhookEndpoint.objects.filter(user=request.user))
    deliveries = (
        WebhookDelivery.objects.filter(endpoint__user=request.user)
        .select_related("endpoint")
        .order_by("-created_at")[:RECENT_DELIVERIES]
    )
    context = {
        "api_access": billing.has_api_access(request.user.pk),
        "endpoints": endpoints,
        "deliveries": deliveries,
        "form": form,
    }
    return render(request, "enhancement/api/webhooks.html", context, status=status)


@login_required
def webhooks(request):
    """The user's endpoints with their secrets, the latest deliveries; a POST adds one."""
    if request.method != "POST":
        return _webhooks_page(request, form=WebhookEndpointForm())
    form = WebhookEndpointForm(request.POST)
    if not form.is_valid():
        return _webhooks_page(request, form=form, status=400)
    try:
        services.create_endpoint(user=request.user, url=form.cleaned_data["url"])
    except services.ApiError as exc:
        form.add_error(None, str(exc))
        return _webhooks_page(request, form=form, status=400)
    messages.success(request, "Added the endpoint. Verify each event with its secret.")
    return redirect("api:webhooks")


@login_required
@require_POST
def webhook_delete(request, endpoint_id: str):
    if not services.delete_endpoint(user=request.user, endpoint_id=endpoint_id):
        raise Http404("No such endpoint.")
    messages.success(request, "Deleted the endpoint: it receives no more events.")
    return redirect("api:webhooks")


@login_required
@require_POST
def redeliver(request, delivery_id: str):
    if services.redeliver(user=request.user, delivery_id=delivery_id) is None:
        raise Http404("No such delivery.")
    messages.success(request, "Sending the event again now.")
    return redirect("api:webhooks")


@require_safe
def reference(request):
    """The API reference, rendered from the same OpenAPI document the API serves."""
    schema = api.get_openapi_schema()
    return render(
        request,
        "enhancement/api/reference.html",
        {
            "info": schema["info"],
            "operations": reference_operations(schema),
            "problems": PROBLEMS,
        },
    )
