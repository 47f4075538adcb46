from django.urls import path

from enhancement.jobs import views

app_name = "jobs"
urlpatterns = [
    path("images/<str:image_id>/enhance/", views.order, name="order"),
    path("jobs/batch/", views.batch, name="batch"),
    path("jobs/<str:job_id>/", views.detail, name="detail"),
    path("jobs/<str:job_id>/cancel/", views.cancel, name="cancel"),
    path("jobs/<str:job_id>/download/", views.download, name="download"),
]
