"""Validation of what people send about their apps. Every message says what to do instead.

Names and descriptions go through `core.forms` (no control characters); the domain through
`domains.normalize_domain` and a uniqueness check (the service checks again under the
database's constraint); pricing through `services.check_pricing`, the same rules the database
enforces, so the form and the constraints refuse the same things.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings

from core.forms import DescriptionField, NameField
from platform_apps import selectors, services
from platform_apps.domains import InvalidDomain, normalize_domain
from platform_apps.models import (
    FEATURE_MAX_LENGTH,
    FEATURES_MAX,
    App,
    AppStatus,
    MonetizationType,
    RequirementPriority,
    RequirementStatus,
    SubscriptionInterval,
)

NAME_MAX = 255
DESCRIPTION_MAX = 5000
REQUIREMENT_MAX = 5000
PRICE_MAX = Decimal("99999999.99")  # what DecimalField(10, 2) holds


class AppForm(forms.Form):
    name = NameField(max_length=NAME_MAX)
    description = DescriptionField(
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the app does, for you and, once it is active, for everyone.",
    )
    domain = forms.CharField(
        label="Custom domain",
        max_length=1000,
        required=False,
        strip=True,
        help_text=(
            "The host name only, e.g. app.example.com (no https://, port or path). "
            "International names are fine."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )

    def __init__(self, *args, app: App | None = None, **kwargs):
        self.app = app
        if app is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": app.name,
                "description": app.description or "",
                "domain": app.domain_display,
            }
        super().__init__(*args, **kwargs)

    def clean_domain(self):
        try:
            domain = normalize_domain(self.cleaned_data.get("domain"))
        except InvalidDomain as exc:
            raise forms.ValidationError(exc.message, code="invalid") from None
        if domain and selectors.domain_taken(
            domain, exclude_app_id=self.app.pk if self.app else None
        ):
            raise forms.ValidationError(services.domain_taken_message(domain), code="taken")
        return domain


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in AppStatus if s != AppStatus.DELETED]
    )


class ForkForm(forms.Form):
    name = NameField(max_length=NAME_MAX, label="Name of your copy")


class RequirementForm(forms.Form):
    description = DescriptionField(
        label="Requirement",
        max_length=REQUIREMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    priority = forms.ChoiceField(
        choices=RequirementPriority.choices, initial=RequirementPriority.MEDIUM
    )


class RequirementEditForm(RequirementForm):
    status = forms.ChoiceField(choices=RequirementStatus.choices)


class TriageForm(forms.Form):
    """A requirement's priority and status, changed from the app's page (no new version)."""

    priority = forms.ChoiceField(choices=RequirementPriority.choices)
    status = forms.ChoiceField(choices=RequirementStatus.choices)


class FeaturesField(forms.Field):
    """One feature per line: blank lines dropped, each line cleaned like a name, repeats kept
    once."""

    widget = forms.Textarea
    max_text = (FEATURE_MAX_LENGTH + 2) * FEATURES_MAX * 2  # the whole text, before splitting

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        text = value if isinstance(value, str) else ""
        if len(text) > self.max_text:
            raise forms.ValidationError(
                f"That is too much text: at most {FEATURES_MAX} features, one per line.",
                code="too_long",
            )
        features = []
        for line in text.splitlines():
            feature = NameField().to_python(line)
            if feature and feature not in features:
                features.append(feature)
        return features

    def validate(self, value):
        super().validate(value)
        if len(value) > FEATURES_MAX:
            raise forms.ValidationError(
                f"At most {FEATURES_MAX} features, one per line.", code="too_many"
            )
        for feature in value:
            if len(feature) > FEATURE_MAX_LENGTH:
                raise forms.ValidationError(
                    f"Each feature may have at most {FEATURE_MAX_LENGTH} characters "
                    f"(“{feature[:30]}…” has {len(feature)}).",
                    code="too_long",
                )


class MonetizationForm(forms.Form):
    type = forms.ChoiceField(
        label="Model", choices=MonetizationType.choices, initial=MonetizationType.FREE
    )
    price = forms.DecimalField(
        required=False,
        min_value=Decimal("0"),
        max_value=PRICE_MAX,
        max_digits=10,
        decimal_places=2,
        help_text=(
            "Every model but Free has one: the purchase, each period of a subscription, the "
            "paid tier of a freemium app, or one unit of usage."
        ),
        error_messages={"min_value": "A price cannot be negative."},
    )
    subscription_interval = forms.ChoiceField(
        label="Billing interval",
        required=False,
        choices=[("", "—"), *SubscriptionInterval.choices],
        help_text="Only for a subscription.",
    )
    features = FeaturesField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"One per line, up to {FEATURES_MAX}.",
    )

    def __init__(self, *args, monetization_model=None, **kwargs):
        if monetization_model is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "type": monetization_model.type,
                "price": monetization_model.price,
                "subscription_interval": monetization_model.subscription_interval or "",
                "features": list(monetization_model.features or []),
            }
        super().__init__(*args, **kwargs)
        self.fields["price"].label = f"Price ({settings.SHOP_CURRENCY.upper()})"

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("type")
        if kind is None or "price" in self.errors:
            return cleaned
        price = cleaned.get("price")
        interval = cleaned.get("subscription_interval") or None
        label = MonetizationType(kind).label.lower()
        if kind == MonetizationType.FREE and price is not None:
            self.add_error("price", "A free model has no price: leave it empty.")
        elif kind != MonetizationType.FREE and (price is None or price <= 0):
            self.add_error("price", f"A {label} model needs a price above zero.")
        if kind == MonetizationType.SUBSCRIPTION and not interval:
            self.add_error("subscription_interval", "Choose how often a subscription is billed.")
        elif kind != MonetizationType.SUBSCRIPTION and interval:
            self.add_error(
                "subscription_interval",
                "Only a subscription has a billing interval: choose “—”.",
            )
        return cleaned

    def pricing(self) -> services.Pricing:
        data = self.cleaned_data
        return services.Pricing(
            type=data["type"],
            price=data.get("price"),
            subscription_interval=data.get("subscription_interval") or None,
            features=tuple(data.get("features") or ()),
        )


# Required for some types only (`MonetizationForm.clean`): the page does not call them optional.
for _name in ("price", "subscription_interval"):
    MonetizationForm.base_fields[_name].conditional = True
