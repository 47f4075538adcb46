from django.contrib import admin
from django.urls import include, path

from config import views
from enhancement.views_files import serve_file

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("media/f/<str:token>/", serve_file, name="media_file"),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("tokens.urls")),
    path("", include("enhancement.urls")),
    path("", include("enhancement.urls_jobs")),
]
