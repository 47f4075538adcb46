from django.urls import path

from enhancement import views_jobs

app_name = "jobs"
urlpatterns = [
    path("images/<str:image_id>/enhance/", views_jobs.order, name="order"),
    path("jobs/batch/", views_jobs.batch, name="batch"),
    path("jobs/<str:job_id>/", views_jobs.detail, name="detail"),
    path("jobs/<str:job_id>/cancel/", views_jobs.cancel, name="cancel"),
    path("jobs/<str:job_id>/download/", views_jobs.download, name="download"),
]
