"""The account page (what the user chooses about how others see them, and the way to every
setting of the account) and the deletion of the account."""

from __future__ import annotations

import time

from allauth.account import app_settings as allauth_account_settings
from allauth.account.authentication import get_authentication_records
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers import registry as provider_registry
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from accounts import deletion
from accounts.forms import DeleteAccountForm, PublicNameForm
from core import ratelimit

# Password tries on the deletion page, per account: enough for typos, too few to guess.
DELETE_PASSWORD_TRIES = 5
DELETE_PASSWORD_WINDOW_SECONDS = 15 * 60


def _provider_name(provider_id: str) -> str:
    provider = provider_registry.get_class(provider_id)
    return provider.name if provider else provider_id.capitalize()


def _sign_in_facts(user) -> dict:
    """The account's addresses, whether it has a password, and its connected accounts (each
    with its provider's id and name)."""
    addresses = list(EmailAddress.objects.filter(user=user).order_by("-primary", "email"))
    connected = [
        {
            "provider": provider_id,
            "name": _provider_name(provider_id),
            # signing in with it again is possible only while its keys are configured
            "configured": provider_id in settings.SOCIALACCOUNT_PROVIDERS,
        }
        for provider_id in SocialAccount.objects.filter(user=user)
        .order_by("provider")
        .values_list("provider", flat=True)
        .distinct()
    ]
    return {
        "addresses": addresses,
        "connected": connected,
        "has_password": user.has_usable_password(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    form = PublicNameForm(request.POST or None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Saved.")
            return redirect("accounts:profile")
        status = 400
    else:
        status = 200
    context = {"form": form, **_sign_in_facts(request.user)}
    return render(request, "accounts/profile.html", context, status=status)


def _recent_provider_sign_in(request) -> bool:
    """Whether this session signed in through Google or GitHub within allauth's
    re-authentication timeout: what confirms a deletion for an account without a password.
    (allauth re-authenticates only by password or MFA; a fresh provider sign-in, with the
    provider asked to re-authenticate, is what it records for the others.)"""
    records = get_authentication_records(request, request.user)
    horizon = time.time() - allauth_account_settings.REAUTHENTICATION_TIMEOUT
    return any(
        record.get("method") == "socialaccount" and record.get("at", 0) >= horizon
        for record in records
    )


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    """What deleting the account deletes and keeps, confirmed by the password (or, without
    one, by a fresh sign-in with the provider and a tick). A wrong password deletes nothing and
    shows the form again; tries are limited per account."""
    user = request.user
    form = DeleteAccountForm(request.POST or None, user=user)
    reauthenticated = form.by_password or _recent_provider_sign_in(request)
    context = {
        "form": form,
        "summary": deletion.summary(user),
        "reauthenticated": reauthenticated,
        "reauthenticate_minutes": max(1, allauth_account_settings.REAUTHENTICATION_TIMEOUT // 60),
        **_sign_in_facts(user),
    }
    if request.method == "GET":
        return render(request, "accounts/delete.html", context)

    if form.by_password and not ratelimit.hit(
        key=f"account-delete:{user.pk}",
        limit=DELETE_PASSWORD_TRIES,
        window_seconds=DELETE_PASSWORD_WINDOW_SECONDS,
    ):
        minutes = max(
            1, round(ratelimit.retry_after(window_seconds=DELETE_PASSWORD_WINDOW_SECONDS) / 60)
        )
        context["error"] = (
            f"Too many tries. Nothing has been deleted; try again in about {minutes} minute"
            f"{'s' if minutes != 1 else ''}."
        )
        response = render(request, "accounts/delete.html", context, status=429)
        response["Retry-After"] = str(minutes * 60)
        return response
    if not reauthenticated:
        context["error"] = (
            "Please confirm it is you by signing in with your provider again first. "
            "Nothing has been deleted."
        )
        return render(request, "accounts/delete.html", context, status=403)
    if not form.is_valid():
        return render(request, "accounts/delete.html", context, status=400)
    try:
        deletion.delete_account(user=user)
    except deletion.DeletionBlocked as error:
        context["error"] = str(error)
        return render(request, "accounts/delete.html", context, status=503)
    logout(request)
    return redirect("accounts:deleted")


@require_safe
def deleted(request):
    """Where a deleted account lands, signed out."""
    return render(request, "accounts/deleted.html", {"contact_email": settings.CONTACT_EMAIL})
