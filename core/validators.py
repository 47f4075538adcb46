"""Model-level checks, so that every way in (the admin included) refuses what forms clean."""

from django.core.exceptions import ValidationError

from core.text import has_control_characters


def no_control_characters(value: str) -> None:
    """For one-line fields (names): no CR, LF, NUL, tab or other control characters."""
    if has_control_characters(value):
        raise ValidationError(
            "Use letters, numbers, spaces and punctuation only: no line breaks or control "
            "characters.",
            code="control_characters",
        )


def no_control_characters_but_line_breaks(value: str) -> None:
    """For descriptions: line breaks and tabs are fine, other control characters are not."""
    if has_control_characters(value, multiline=True):
        raise ValidationError(
            "Remove the control characters from this text.", code="control_characters"
        )
