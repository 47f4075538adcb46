from django.urls import path

from config.placeholders import placeholder

app_name = "tokens"
urlpatterns = [path("tokens/", placeholder, name="page")]
