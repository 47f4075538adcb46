"""Temporary stand-ins so every URL name resolves while the pages are being built."""

from django.http import HttpResponse


def placeholder(request, *args, **kwargs):
    return HttpResponse("Coming soon.", status=501)
