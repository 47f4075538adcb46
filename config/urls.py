from django.contrib import admin
from django.urls import include, path

from config import backoffice, views

urlpatterns = [
    # The back office's numbers: an admin page of the roof (it reads several apps).
    path("admin/numbers/", backoffice.numbers, name="admin_numbers"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("privacy/", views.privacy, name="privacy"),
    path("terms/", views.terms, name="terms"),
    path("contact/", views.contact, name="contact"),
    path("", include("accounts.urls")),
    path("", include("tokens.urls")),
    path("", include("enhancement.urls")),
    # the public API (/api/v1/), its reference page, the account's keys and webhooks pages
    path("", include("enhancement.api.urls")),
    path("", include("albums.urls")),
    path("", include("platform_apps.urls")),
    path("", include("billing.urls")),
    path("", include("vouchers.urls")),  # vouchers/redeem/, redeem/<code>/
    # dj-stripe's webhook endpoint: stripe/webhook/<uuid of the WebhookEndpoint row>/
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
]
