"""bench/gallery.py's URLconf: the project's routes and a truly trivial view to compare with
(a fixed answer: no database, no template, no session)."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def trivial(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/trivial/", trivial, name="bench_trivial"), *project_urlpatterns]
