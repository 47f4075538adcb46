from django.urls import path

import core.converters  # noqa: F401 (registers <id:...> and <signed:...>)
from enhancement.images import views

app_name = "images"
urlpatterns = [
    path("images/", views.library, name="library"),
    path("images/upload/", views.upload, name="upload"),
    path("images/download/", views.download_results, name="download_results"),
    path("images/<id:image_id>/", views.detail, name="detail"),
    path("images/<id:image_id>/edit/", views.edit, name="edit"),
    path("images/<id:image_id>/badge/", views.badge, name="badge"),
    path("images/<id:image_id>/publish/", views.publish, name="publish"),
    path("images/<id:image_id>/delete/", views.delete, name="delete"),
    path("images/<id:image_id>/original/", views.download_original, name="download_original"),
]
