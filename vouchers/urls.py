from django.urls import path

from vouchers import views

app_name = "vouchers"
urlpatterns = [
    path("vouchers/redeem/", views.redeem, name="redeem"),
    path("redeem/<str:code>/", views.redeem_link, name="link"),
]
