from django.urls import include, path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("account/", views.profile, name="profile"),
    path("", include("accounts.exports.urls")),  # account/export/...: "Download my data"
    path("account/delete/", views.delete_account, name="delete"),
    path("account/deleted/", views.deleted, name="deleted"),
]
