from django.urls import path

import core.converters  # noqa: F401 (registers <id:...>)
from platform_apps import views

app_name = "apps"
urlpatterns = [
    path("apps/", views.my_apps, name="mine"),
    path("apps/new/", views.create, name="create"),
    path("apps/directory/", views.directory, name="directory"),
    path("apps/<id:app_id>/", views.detail, name="detail"),
    path("apps/<id:app_id>/edit/", views.edit, name="edit"),
    path("apps/<id:app_id>/status/", views.change_status, name="status"),
    path("apps/<id:app_id>/fork/", views.fork, name="fork"),
    path("apps/<id:app_id>/delete/", views.delete, name="delete"),
    path("apps/<id:app_id>/requirements/", views.requirement_add, name="requirement_add"),
    path(
        "apps/<id:app_id>/requirements/<id:requirement_id>/edit/",
        views.requirement_edit,
        name="requirement_edit",
    ),
    path(
        "apps/<id:app_id>/requirements/<id:requirement_id>/triage/",
        views.requirement_triage,
        name="requirement_triage",
    ),
    path(
        "apps/<id:app_id>/requirements/<id:requirement_id>/delete/",
        views.requirement_delete,
        name="requirement_delete",
    ),
    path("apps/<id:app_id>/pricing/new/", views.monetization_add, name="monetization_add"),
    path(
        "apps/<id:app_id>/pricing/<id:monetization_id>/edit/",
        views.monetization_edit,
        name="monetization_edit",
    ),
    path(
        "apps/<id:app_id>/pricing/<id:monetization_id>/delete/",
        views.monetization_delete,
        name="monetization_delete",
    ),
]
