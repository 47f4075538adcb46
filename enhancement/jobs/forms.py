"""Validation of what users send about enhancement jobs: an order, a batch, a download."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings

from core.ids import ID_PATTERN
from enhancement.imaging import OUTPUT_FORMATS
from enhancement.jobs.export import DEFAULT_EXPORT_QUALITY, choose_format_message
from enhancement.jobs.tiers import choose_tier_message, labels_text, tier_options
from enhancement.models import EnhancedImage

# At most 38: a batch job's key is "<key>:<image id>" (25) in a 64-character column.
REQUEST_KEY = re.compile(r"^[A-Za-z0-9_-]{8,38}$")


def tier_choices():
    return [(option.value, option.label) for option in tier_options()]


class TierField(forms.ChoiceField):
    """One of the tiers, with messages that name them."""

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", tier_choices)
        super().__init__(**kwargs)
        self.error_messages["required"] = f"Choose a tier: {labels_text()}."
        self.error_messages["invalid_choice"] = choose_tier_message()


class RequestKeyField(forms.CharField):
    """The form's one-time key (a fresh uuid per render): a double-click or a resubmission
    sends the same key, and the job service turns it into the same job."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.HiddenInput)
        kwargs.setdefault("max_length", 38)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value and not REQUEST_KEY.match(value):
            raise forms.ValidationError("This form is damaged. Reload the page and try again.")
        return value or None


class IdListField(forms.MultipleChoiceField):
    """A list of ids (checkbox values); which ids are acceptable is the form's business."""

    def valid_value(self, value):
        return bool(ID_PATTERN.fullmatch(str(value)))


class OrderForm(forms.Form):
    tier = TierField(widget=forms.RadioSelect)
    # "Auto light and colour": the engine may correct exposure and a colour cast. Unticked
    # (the default), the result keeps the photo's own tones and colours.
    auto_adjust = forms.BooleanField(required=False)
    request_key = RequestKeyField()


class BatchForm(forms.Form):
    """The library's batch order: the images ticked, one tier, whether to skip images already
    enhanced at that tier. `confirm` is set by the confirmation page's button."""

    image_ids = IdListField(
        error_messages={
            "required": "Select at least one image to enhance.",
            "invalid_choice": "Some of the selected images are not in your library.",
        },
    )
    tier = TierField()
    skip_already_enhanced = forms.BooleanField(required=False)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    request_key = RequestKeyField()

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        ids = list(dict.fromkeys(cleaned.get("image_ids") or []))
        if not ids:
            return cleaned
        limit = settings.ENHANCEMENT_BATCH_MAX
        if len(ids) > limit:
            raise forms.ValidationError(f"Select at most {limit} images at a time.")
        found = {
            image.pk: image for image in EnhancedImage.objects.filter(user=self.user, pk__in=ids)
        }
        if len(found) != len(ids):
            raise forms.ValidationError(
                "Some of the selected images are no longer in your library. Reload the page."
            )
        cleaned["images"] = [found[pk] for pk in ids]
        return cleaned


class DownloadForm(forms.Form):
    """`?format=png|jpeg|webp&quality=N` (no format: the file as stored)."""

    format = forms.ChoiceField(
        required=False,
        choices=[("", "As stored")] + [(name, spec.label) for name, spec in OUTPUT_FORMATS.items()],
    )
    quality = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=100,
        error_messages={
            "invalid": "The quality must be a whole number from 1 to 100.",
            "min_value": "The quality must be a whole number from 1 to 100.",
            "max_value": "The quality must be a whole number from 1 to 100.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].error_messages["invalid_choice"] = choose_format_message()

    def clean_quality(self):
        quality = self.cleaned_data.get("quality")
        return DEFAULT_EXPORT_QUALITY if quality is None else quality
