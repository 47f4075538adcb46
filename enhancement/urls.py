"""Every page of enhancement: private media files, the image library, the jobs."""

from django.urls import include, path

import core.converters  # noqa: F401 (registers <id:...> and <signed:...>)
from enhancement import views

urlpatterns = [
    path("media/f/<signed:token>/", views.serve_file, name="media_file"),
    path("", include("enhancement.images.urls")),
    path("", include("enhancement.jobs.urls")),
]
