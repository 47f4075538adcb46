from django.urls import path

from enhancement.images import views

app_name = "images"
urlpatterns = [
    path("images/", views.library, name="library"),
    path("images/upload/", views.upload, name="upload"),
    path("images/<str:image_id>/", views.detail, name="detail"),
    path("images/<str:image_id>/edit/", views.edit, name="edit"),
    path("images/<str:image_id>/publish/", views.publish, name="publish"),
    path("images/<str:image_id>/delete/", views.delete, name="delete"),
    path("images/<str:image_id>/original/", views.download_original, name="download_original"),
]
