from django.db import models

from core.ids import ID_LENGTH, new_id


class IdField(models.CharField):
    """The primary key every model uses: a cuid-like string (see `core.ids`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("primary_key", True)
        kwargs.setdefault("max_length", ID_LENGTH)
        kwargs.setdefault("default", new_id)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key, value in (
            ("primary_key", True),
            ("max_length", ID_LENGTH),
            ("default", new_id),
            ("editable", False),
        ):
            if kwargs.get(key) == value:
                kwargs.pop(key)
        return name, path, args, kwargs


class TimestampedModel(models.Model):
    id = IdField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
