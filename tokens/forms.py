from django import forms

from tokens.models import TokenTransactionType


class TransactionFilterForm(forms.Form):
    """The history's filter (GET)."""

    type = forms.ChoiceField(
        label="Type",
        required=False,
        choices=[("", "All types"), *TokenTransactionType.choices],
    )
