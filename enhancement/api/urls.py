"""The API (`/api/v1/`, ninja's views), its reference page, and the account's API pages."""

from django.urls import path

import core.converters  # noqa: F401 (registers <id:...>)
from enhancement.api import views
from enhancement.api.api import urlpatterns as api_urlpatterns

app_name = "api"
urlpatterns = [
    path("api/v1/", api_urlpatterns()),
    path("api/v1/docs/", views.reference, name="reference"),
    path("account/api/keys/", views.keys, name="keys"),
    path("account/api/keys/<id:key_id>/revoke/", views.key_revoke, name="key_revoke"),
    path("account/api/webhooks/", views.webhooks, name="webhooks"),
    path(
        "account/api/webhooks/<id:endpoint_id>/delete/",
        views.webhook_delete,
        name="webhook_delete",
    ),
    path(
        "account/api/deliveries/<id:delivery_id>/redeliver/",
        views.redeliver,
        name="redeliver",
    ),
]
