from django.urls import path

from config.placeholders import placeholder

app_name = "images"
urlpatterns = [
    path("images/", placeholder, name="library"),
    path("images/upload/", placeholder, name="upload"),
    path("images/<str:image_id>/", placeholder, name="detail"),
]
