from django import forms

from accounts.models import PUBLIC_NAME_FALLBACK, User
from core.forms import NameField


class PublicNameForm(forms.ModelForm):
    public_name = NameField(
        max_length=50,
        required=False,
        label="Public name",
        help_text=(
            "Shown beside the images you share and publish. Leave it empty to appear as "
            f"“{PUBLIC_NAME_FALLBACK}”. Your e-mail address is never shown to anyone."
        ),
    )

    class Meta:
        model = User
        fields = ["public_name"]
