"""Every input of vouchers: the redeem form, and the staff's batch generation and voucher forms."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from core.forms import NameField
from vouchers.models import CODE_MAX_LENGTH, Voucher, VoucherType
from vouchers.services import BATCH_MAX, VoucherNotFound, parse_code


class RedeemForm(forms.Form):
    # longer than a code: spaces and dashes people type are removed before it is matched
    code = NameField(
        label="Voucher code",
        max_length=CODE_MAX_LENGTH * 3,
        error_messages={
            "required": "Enter a voucher code.",
            # the words of a code that does not exist: a refusal tells nothing more
            "max_length": VoucherNotFound.message,
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


def _check_value(cleaned: dict, add_error) -> None:
    kind, value = cleaned.get("type"), cleaned.get("value")
    if kind == VoucherType.PERCENTAGE_BONUS and value is not None and value > 100:
        add_error("value", "A percentage bonus is at most 100.")


class BatchForm(forms.Form):
    """The admin's "generate a batch of codes" form."""

    count = forms.IntegerField(label="How many codes", min_value=1, max_value=BATCH_MAX)
    prefix = forms.CharField(
        required=False,
        max_length=10,
        help_text="Letters and digits put before each random part (e.g. SPRING).",
    )
    length = forms.IntegerField(
        label="Random characters",
        min_value=6,
        max_value=16,
        initial=8,
        help_text="From an alphabet without 0/O, 1/I/L.",
    )
    type = forms.ChoiceField(choices=VoucherType.choices)
    value = forms.IntegerField(
        min_value=1, max_value=1_000_000, help_text="Tokens, percent, or trial days."
    )
    max_uses = forms.IntegerField(
        label="Uses per code",
        required=False,
        min_value=1,
        initial=1,
        help_text="Empty = unlimited.",
    )
    expires_at = forms.DateTimeField(label="Expires at", required=False)

    def clean_prefix(self):
        prefix = self.cleaned_data["prefix"]
        if prefix and parse_code(prefix) is None:
            raise forms.ValidationError("Letters A-Z and digits only.")
        return parse_code(prefix) if prefix else ""

    def clean_expires_at(self):
        expires = self.cleaned_data["expires_at"]
        if expires is not None and expires <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.")
        return expires

    def clean(self):
        cleaned = super().clean()
        _check_value(cleaned, self.add_error)
        prefix, length = cleaned.get("prefix") or "", cleaned.get("length")
        if length is not None and len(prefix) + length > CODE_MAX_LENGTH:
            self.add_error(
                "prefix", f"Prefix and random part together are at most {CODE_MAX_LENGTH}."
            )
        return cleaned


class VoucherAdminForm(forms.ModelForm):
    """A voucher made or edited by staff: its code as it will be matched."""

    class Meta:
        model = Voucher
        fields = ("code", "type", "value", "status", "max_uses", "expires_at", "metadata")

    def clean_code(self):
        code = parse_code(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(
                f"Letters A-Z and digits, at most {CODE_MAX_LENGTH} (spaces and dashes ignored)."
            )
        clash = Voucher.objects.filter(code=code).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another voucher has this code.")
        return code

    def clean(self):
        cleaned = super().clean()
        _check_value(cleaned, self.add_error)
        return cleaned
