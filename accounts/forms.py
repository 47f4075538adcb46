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


class DeleteAccountForm(forms.Form):
    """The confirmation of an account's deletion: the account's password, or (for an account
    that signs in only through Google or GitHub, just re-authenticated there) a tick."""

    WRONG_PASSWORD = "That is not your password. Nothing has been deleted."  # noqa: S105 (a message)

    password = forms.CharField(
        label="Your password",
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label="I understand that my account and my photos are deleted for good",
        required=False,
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.by_password = user.has_usable_password()
        if self.by_password:
            del self.fields["confirm"]
            self.fields["password"].required = True
            self.fields["password"].error_messages["required"] = (
                "Enter your password to confirm. Nothing has been deleted."
            )
        else:
            del self.fields["password"]
            self.fields["confirm"].required = True
            self.fields["confirm"].error_messages["required"] = (
                "Tick the box to confirm. Nothing has been deleted."
            )

    def clean_password(self):
        password = self.cleaned_data.get("password") or ""
        if len(password) > 4096 or not self.user.check_password(password):
            raise forms.ValidationError(self.WRONG_PASSWORD, code="wrong_password")
        return password
