"""'Grant tokens' in the back office: staff give tokens to the selected balances, through
`tokens.services.grant` (one locked transaction each, an EARN_BONUS in the ledger), with the
amount, the reason and the staff user recorded on each row.

An intermediate page asks for the amount and the reason; its one-time key makes a resubmitted
form (a double-click, the browser's back button) grant nothing more: each grant is keyed by it
and the user."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from core.forms import NameField
from tokens import services
from tokens.models import TokenTransactionType
from tokens.sources import STAFF_SOURCE

MAX_STAFF_GRANT = 10_000  # per user and action


class GrantTokensForm(forms.Form):
    amount = forms.IntegerField(
        min_value=1, max_value=MAX_STAFF_GRANT, label="Tokens to grant to each user"
    )
    reason = NameField(
        max_length=200,
        label="Reason (kept in the ledger)",
        error_messages={"required": "Say why: it is kept with the grant."},
    )
    key = forms.UUIDField(widget=forms.HiddenInput)


@admin.action(description="Grant tokens to the selected users…", permissions=["change"])
def grant_tokens(modeladmin, request, queryset):
    user_ids = list(queryset.values_list("user_id", flat=True))
    if "apply" in request.POST:
        form = GrantTokensForm(request.POST)
        if form.is_valid():
            amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
            key = form.cleaned_data["key"]
            for user_id in user_ids:
                services.grant(
                    user=user_id,
                    amount=amount,
                    type=TokenTransactionType.EARN_BONUS,
                    source=STAFF_SOURCE,
                    source_id=str(request.user.pk),
                    metadata={
                        "reason": reason,
                        "by_id": request.user.pk,
                        "by": request.user.get_username(),
                    },
                    idempotency_key=f"staff-grant:{key}:{user_id}",
                )
            modeladmin.message_user(
                request,
                f"Granted {amount} token{'s' if amount != 1 else ''} to "
                f"{len(user_ids)} user{'s' if len(user_ids) != 1 else ''}: {reason}",
                messages.SUCCESS,
            )
            return None
    else:
        form = GrantTokensForm(initial={"key": uuid.uuid4()})
    return TemplateResponse(
        request,
        "admin/tokens/grant_tokens.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "Grant tokens",
            "form": form,
            "queryset": queryset.select_related("user"),
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )
