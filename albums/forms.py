"""Every input of the album pages, checked here: names, link settings, lists of image ids, the
gallery's query string. Ids are checked against their shape before any query."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils import timezone

from albums.models import AlbumPrivacy
from albums.selectors import Sort
from core.forms import DescriptionField, NameField
from core.ids import ID_REGEX

id_validator = RegexValidator(rf"^{ID_REGEX}$", "That is not an image of yours.", code="bad_id")
NEW_ALBUM = "new"
PASSWORD_MIN_LENGTH = 4
PASSWORD_MAX_LENGTH = 128


class IdListField(forms.Field):
    """Several ids under one name (checkboxes, or the order's hidden inputs), each checked
    against the shape of an id. At most `max_count`."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, max_count: int, **kwargs):
        self.max_count = max_count
        super().__init__(**kwargs)

    def to_python(self, value):
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [str(v) for v in values]

    def validate(self, value):
        super().validate(value)
        if len(value) > self.max_count:
            raise forms.ValidationError(
                f"That is more than {self.max_count} images at once.", code="too_many"
            )
        for item in value:
            id_validator(item)


class AlbumForm(forms.Form):
    name = NameField(
        max_length=255, label="Name", error_messages={"required": "Give the album a name."}
    )
    description = DescriptionField(
        required=False,
        max_length=5000,
        label="Description",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_description(self):
        return self.cleaned_data.get("description") or None


class Expiry:
    KEEP = "keep"
    NEVER = "never"
    DATE = "date"


def expiry_choices(current: dt.datetime | None = None) -> list[tuple[str, str]]:
    choices = []
    if current is not None:
        local = timezone.localtime(current)
        choices.append((Expiry.KEEP, f"Keep: until {local:%-d %B %Y, %H:%M}"))
    choices.append((Expiry.NEVER, "Never"))
    for days in settings.ALBUM_SHARE_EXPIRY_DAYS:
        choices.append((str(days), f"In {days} day{'s' if days != 1 else ''}"))
    choices.append((Expiry.DATE, "On a date…"))
    return choices


class SharingForm(forms.Form):
    """Privacy and the link's settings. `expires_at` and `password` in `cleaned_data` are what
    `services.set_sharing` takes (`services.KEEP` for "leave it")."""

    privacy = forms.ChoiceField(
        choices=AlbumPrivacy.choices, widget=forms.RadioSelect, label="Who can see it"
    )
    expiry = forms.ChoiceField(required=False, label="The link works")
    expires_on = forms.DateField(
        required=False,
        label="Until (the end of this day)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    password = forms.CharField(
        required=False,
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    remove_password = forms.BooleanField(required=False, label="Remove the password")
    allow_download = forms.BooleanField(required=False, label="Visitors may download the images")

    def __init__(self, *args, album=None, **kwargs):
        self.album = album
        initial = kwargs.pop("initial", {}) or {}
        if album is not None:
            initial = {
                "privacy": album.privacy,
                "expiry": Expiry.KEEP if album.share_expires_at else Expiry.NEVER,
                "allow_download": album.allow_download,
                **initial,
            }
        super().__init__(*args, initial=initial, **kwargs)
        current = album.share_expires_at if album is not None else None
        self.fields["expiry"].choices = expiry_choices(current)
        if album is not None and album.has_password:
            self.fields["password"].label = "New password"
            self.fields["password"].help_text = "Leave empty to keep the current password."
        else:
            self.fields[
                "password"
            ].help_text = "Optional. Visitors enter it once; it is stored hashed."

    def clean_password(self):
        password = self.cleaned_data.get("password") or ""
        if "\x00" in password:
            raise forms.ValidationError("A password cannot hold that character.")
        if password and len(password) < PASSWORD_MIN_LENGTH:
            raise forms.ValidationError(
                f"Use at least {PASSWORD_MIN_LENGTH} characters, or none for no password."
            )
        return password

    def clean(self):
        from albums import services

        data = super().clean()
        privacy = data.get("privacy")
        expiry = data.get("expiry") or (Expiry.KEEP if self._has_expiry() else Expiry.NEVER)
        now = timezone.now()
        if expiry == Expiry.KEEP:
            expires_at = services.KEEP
        elif expiry == Expiry.NEVER:
            expires_at = None
        elif expiry == Expiry.DATE:
            day = data.get("expires_on")
            if day is None:
                self.add_error("expires_on", "Choose the last day the link works.")
                return data
            start = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
            expires_at = timezone.make_aware(start)
            if expires_at <= now:
                self.add_error("expires_on", "Choose today or a day in the future.")
                return data
            if day > (now + dt.timedelta(days=3650)).date():
                self.add_error("expires_on", "Choose a day within the next ten years.")
                return data
        else:
            expires_at = now + dt.timedelta(days=int(expiry))
        password = data.get("password") or ""
        if data.get("remove_password"):
            new_password = None
        elif password:
            new_password = password
        else:
            new_password = services.KEEP
        if privacy == AlbumPrivacy.PUBLIC:
            if expires_at is not services.KEEP and expires_at is not None:
                self.add_error(
                    "expiry",
                    "A public album is open to everyone, with no expiry: choose Never, or make "
                    "it unlisted.",
                )
            if password:
                self.add_error(
                    "password",
                    "A public album is open to everyone, with no password: leave it empty, or "
                    "make the album unlisted.",
                )
        data["expires_at"] = expires_at
        data["new_password"] = new_password
        return data

    def _has_expiry(self) -> bool:
        return self.album is not None and self.album.share_expires_at is not None


class ImageIdsForm(forms.Form):
    image_ids = IdListField(
        max_count=settings.ALBUM_MAX_IMAGES,
        error_messages={"required": "Tick at least one image first."},
    )


class AddToAlbumForm(forms.Form):
    """From the library (ticked images) or an image's page: an album of the user's, or a new
    one with its name."""

    album = forms.CharField(
        max_length=32, error_messages={"required": "Choose an album."}, label="Album"
    )
    new_album_name = NameField(required=False, max_length=255, label="New album's name")
    image_ids = IdListField(
        max_count=settings.ALBUM_MAX_IMAGES,
        error_messages={"required": "Tick at least one image first."},
    )

    def clean_album(self):
        album = self.cleaned_data["album"]
        if album != NEW_ALBUM:
            RegexValidator(rf"^{ID_REGEX}$", "Choose one of your albums.")(album)
        return album

    def clean(self):
        data = super().clean()
        if data.get("album") == NEW_ALBUM and not data.get("new_album_name"):
            self.add_error("new_album_name", "Give the new album a name.")
        return data


class OrderForm(forms.Form):
    ids = IdListField(
        max_count=settings.ALBUM_MAX_IMAGES,
        error_messages={"required": "The new order is missing."},
    )


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=(("up", "Up"), ("down", "Down")))

    @property
    def offset(self) -> int:
        return -1 if self.cleaned_data["direction"] == "up" else 1


class CoverForm(forms.Form):
    image_id = forms.CharField(required=False, max_length=32, validators=[id_validator])


class PasswordForm(forms.Form):
    password = forms.CharField(
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        error_messages={"required": "Enter the password you were given."},
    )


GALLERY_SHOWS = ("photos", "albums")
CURSOR_MAX_LENGTH = 64


def gallery_query(data) -> dict:
    """The gallery's query string (the busiest page's only input, so checked by hand rather
    than by a Form, whose set-up cost more than the rest of a kept page): `show` and `sort`
    fall back to their defaults when unknown; `after` / `before` are kept as given unless they
    cannot be a cursor of ours at all (too long, control characters), which `bad_cursor` says;
    `selectors` checks their shape."""
    show = data.get("show")
    sort = data.get("sort")
    after = data.get("after") or ""
    before = "" if after else (data.get("before") or "")
    cursor = after or before
    bad = len(cursor) > CURSOR_MAX_LENGTH or not cursor.isprintable()
    return {
        "show": show if show in GALLERY_SHOWS else "photos",
        "sort": sort if sort in dict(Sort.CHOICES) else Sort.NEWEST,
        "after": "" if bad else after,
        "before": "" if bad else before,
        "bad_cursor": bad,
    }
