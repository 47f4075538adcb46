from django.urls import path

from tokens import views

app_name = "tokens"
urlpatterns = [
    path("tokens/", views.page, name="page"),
    path("tokens/status/", views.status, name="status"),
]
