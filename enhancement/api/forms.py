"""What the keys and webhooks pages accept."""

from __future__ import annotations

from django import forms

from core.forms import NameField
from enhancement.api import webhooks


class ApiKeyForm(forms.Form):
    name = NameField(
        max_length=100,
        label="Name",
        help_text='What uses this key ("shop backend"), so you can tell keys apart.',
    )


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        max_length=500,
        assume_scheme="https",
        label="URL",
        help_text="An http(s) address of a public host; we POST a signed JSON event to it.",
    )

    def clean_url(self):
        url = self.cleaned_data["url"]
        reason = webhooks.check_url_shape(url)
        if reason:
            raise forms.ValidationError(reason)
        return url
