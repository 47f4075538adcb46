from django.urls import path

import core.converters  # noqa: F401 (registers <id:...> and <signed:...>)
from enhancement.jobs import views

app_name = "jobs"
urlpatterns = [
    path("images/<id:image_id>/enhance/", views.order, name="order"),
    path("jobs/batch/", views.batch, name="batch"),
    path("jobs/<id:job_id>/", views.detail, name="detail"),
    path("jobs/<id:job_id>/cancel/", views.cancel, name="cancel"),
    path("jobs/<id:job_id>/download/", views.download, name="download"),
]
