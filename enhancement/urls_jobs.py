from django.urls import path

from config.placeholders import placeholder

app_name = "jobs"
urlpatterns = [
    path("jobs/<str:job_id>/", placeholder, name="detail"),
]
