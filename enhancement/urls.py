"""Every page of enhancement: private media files, the image library, the jobs."""

from django.urls import include, path

from enhancement import views

urlpatterns = [
    path("media/f/<str:token>/", views.serve_file, name="media_file"),
    path("", include("enhancement.images.urls")),
    path("", include("enhancement.jobs.urls")),
]
