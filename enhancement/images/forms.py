"""Validation of what users send about images.

The check of an uploaded file lives in one place, `check_image_file`: size first (from the upload's
own size, before reading a byte), then `imaging.normalize_upload`, which decides the type by
decoding the content. HTML forms, the service and any future API go through it.
"""

from __future__ import annotations

import io
import os
import unicodedata

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from core.forms import DescriptionField, NameField
from core.ids import ID_PATTERN
from core.text import format_bytes
from enhancement import imaging
from enhancement.images import selectors
from enhancement.models import EnhancedImage

UNTITLED = "Untitled"


def upload_limits() -> imaging.UploadLimits:
    return imaging.UploadLimits(
        max_bytes=settings.UPLOAD_MAX_BYTES, max_pixels=settings.UPLOAD_MAX_PIXELS
    )


def check_image_file(uploaded, *, keep_location: bool) -> imaging.NormalizedImage:
    """The one check of an uploaded image file. Returns the normalised original to store.

    Raises `imaging.ImageRejected` (with a `.message` for the user) for anything we refuse.
    A file whose declared size is over the limit is refused without reading it.
    """
    limits = upload_limits()
    size = getattr(uploaded, "size", None)
    if size is not None and size > limits.max_bytes:
        raise imaging.ImageRejected(
            "too_large",
            f"This file is {format_bytes(size)}; the most we accept is "
            f"{format_bytes(limits.max_bytes)}.",
        )
    if size == 0:
        raise imaging.ImageRejected("empty", "The file is empty.")
    return imaging.normalize_upload(
        uploaded,
        limits=limits,
        keep_location=keep_location,
        # the preview and the thumbnail, made from the pixels the check decodes
        derivative_sizes=(settings.DERIVATIVE_PREVIEW_MAX, settings.DERIVATIVE_THUMB_MAX),
    )


def image_name_from_filename(filename: str | None) -> str:
    """A display name from an uploaded file name: no folders, no extension, no control
    characters, at most 255 characters. Never used in a storage key."""
    base = os.path.basename((filename or "").replace("\\", "/"))
    stem, _ext = os.path.splitext(base)
    stem = stem or base
    cleaned = "".join(ch for ch in stem if unicodedata.category(ch)[0] != "C").strip()
    return cleaned[:255] or UNTITLED


# --- receiving files ----------------------------------------------------------------------------
class OversizeUploadedFile(UploadedFile):
    """Stands in for a file larger than the limit: its name and the bytes seen, no content."""

    def __init__(self, *, name: str, size: int, content_type: str | None):
        super().__init__(file=io.BytesIO(), name=name, content_type=content_type, size=size)


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops keeping a file once it passes `max_bytes`.

    Put first in `request.upload_handlers`: the bytes of a file past the limit go nowhere (no
    multi-gigabyte temporary file), and the file arrives as an `OversizeUploadedFile` whose `size`
    is over the limit, so the user gets a message for that file while the others are kept.
    """

    def __init__(self, request=None, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.seen = 0
        self.over = False

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.seen = 0
        self.over = False

    def receive_data_chunk(self, raw_data, start):
        self.seen += len(raw_data)
        if self.over or self.seen > self.max_bytes:
            self.over = True
            return None  # the handlers after this one never see these bytes
        return raw_data

    def file_complete(self, file_size):
        if self.over:
            return OversizeUploadedFile(
                name=self.file_name, size=self.seen, content_type=self.content_type
            )
        return None


# --- forms --------------------------------------------------------------------------------------
class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.Field):
    """Several files under one name. Only counts them: each file is checked on its own later,
    so that one bad file does not cost the user the good ones."""

    widget = MultipleFileInput

    def to_python(self, data):
        if data is None:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [f for f in files if isinstance(f, UploadedFile)]

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError("Choose at least one image to upload.", code="required")


class UploadForm(forms.Form):
    files = MultipleFileField(label="Images")
    keep_location = forms.BooleanField(
        required=False,
        initial=False,
        label="Keep location (GPS) data in my original",
        help_text=(
            "Off: we remove where a photo was taken from the stored original. The thumbnails and "
            "previews we show never carry location or camera data."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].widget.attrs.update(
            {
                "accept": imaging.ACCEPT_ATTRIBUTE,
                "data-max-files": settings.UPLOAD_MAX_FILES,
                "data-max-bytes": settings.UPLOAD_MAX_BYTES,
            }
        )
        self.fields["files"].help_text = (
            f"{imaging.ACCEPTED_TYPES_TEXT}; up to {settings.UPLOAD_MAX_FILES} files at once, "
            f"{format_bytes(settings.UPLOAD_MAX_BYTES)} and "
            f"{settings.UPLOAD_MAX_PIXELS / 1_000_000:g} megapixels each."
        )

    def clean_files(self):
        files = self.cleaned_data["files"]
        limit = settings.UPLOAD_MAX_FILES
        if len(files) > limit:
            raise forms.ValidationError(
                f"You can upload at most {limit} files at once; you chose {len(files)}. "
                "Nothing was uploaded: please choose fewer files.",
                code="too_many_files",
            )
        return files


class ImageEditForm(forms.ModelForm):
    # Line breaks and other control characters never reach a stored name (a name goes into the
    # download's Content-Disposition header); a description keeps its line breaks only.
    name = NameField(
        max_length=255, error_messages={"required": "Give the image a name."}, label="Name"
    )
    description = DescriptionField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )

    class Meta:
        model = EnhancedImage
        fields = ["name", "description"]

    def clean_description(self):
        return self.cleaned_data.get("description") or None


class PublishForm(forms.Form):
    is_public = forms.BooleanField(required=False)


class LibraryFilterForm(forms.Form):
    """The library's search box and order (GET). Anything invalid falls back to the default."""

    q = NameField(required=False, max_length=100, label="Search by name")
    sort = forms.ChoiceField(
        required=False,
        label="Sort",
        choices=[(key, label) for key, (label, _order) in selectors.LIBRARY_SORTS.items()],
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {"query": "", "sort": "newest"}
        return {
            "query": self.cleaned_data.get("q") or "",
            "sort": self.cleaned_data.get("sort") or "newest",
        }


class ImageIdsField(forms.MultipleChoiceField):
    """Ids of images (checkbox values): any well-formed id; whose they are is the view's
    business (others' are ignored)."""

    def valid_value(self, value):
        return bool(ID_PATTERN.fullmatch(str(value)))


class ResultsArchiveForm(forms.Form):
    image_ids = ImageIdsField(
        error_messages={
            "required": "Tick the images whose enhanced results you want to download.",
            "invalid_choice": "That selection is not valid. Reload the page and try again.",
        }
    )

    def clean_image_ids(self):
        ids = self.cleaned_data["image_ids"]
        if len(ids) > selectors.MAX_ARCHIVE_IMAGES:
            raise forms.ValidationError(
                f"Choose at most {selectors.MAX_ARCHIVE_IMAGES} images for one download."
            )
        return ids
