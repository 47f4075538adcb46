from django import forms

# What Stripe puts in the success URL for {CHECKOUT_SESSION_ID}.
CHECKOUT_SESSION_ID = r"^cs_(test|live)_[A-Za-z0-9]{1,250}$"


class CheckoutReturnForm(forms.Form):
    """The query of the success page (GET): the Checkout Session the user came back from."""

    session_id = forms.RegexField(
        regex=CHECKOUT_SESSION_ID,
        max_length=255,
        error_messages={
            "required": "This page needs the Checkout session it is about.",
            "invalid": "That is not a Checkout session of ours.",
        },
    )
