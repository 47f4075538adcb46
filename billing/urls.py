from django.urls import path

import core.converters  # noqa: F401 (registers <id:...>)
from billing import views

app_name = "billing"
urlpatterns = [
    path("pricing/", views.pricing, name="pricing"),
    path("billing/", views.page, name="page"),
    path("billing/checkout/pack/<id:package_id>/", views.buy_pack, name="buy_pack"),
    path("billing/checkout/plan/<id:plan_id>/", views.subscribe, name="subscribe"),
    path("billing/success/", views.success, name="success"),
    path("billing/success/status/", views.success_status, name="success_status"),
    path("billing/portal/", views.portal, name="portal"),
]
