"""Form fields for text people type: names and descriptions never carry control characters.

Every form that takes a name or a description uses these (or `clean_line` / `clean_text`), so a
name can go into a header, a file name or a page without surprises. Models keep the matching
validators (`core.validators`) so that the admin refuses what a form would have cleaned.
"""

from django import forms

from core.text import clean_line, clean_text


class NameField(forms.CharField):
    """One line: control characters and runs of whitespace become one space; trimmed."""

    def to_python(self, value):
        value = super().to_python(value)
        return clean_line(value) if value else value


class DescriptionField(forms.CharField):
    """Several lines: line breaks kept (as LF), other control characters removed; trimmed."""

    widget = forms.Textarea

    def to_python(self, value):
        value = super().to_python(value)
        return clean_text(value) if value else value
