"""Included by `accounts.urls` (so in its "accounts" namespace: `accounts:data_export_start`)."""

from django.urls import path

import core.converters  # noqa: F401 (registers <signed:...>)
from accounts.exports import views

urlpatterns = [
    path("account/export/", views.start, name="data_export_start"),
    path("account/export/status/", views.status, name="data_export_status"),
    path(
        "account/export/download/<signed:export_token>/",
        views.download,
        name="data_export_download",
    ),
]
