"""Serves private media from the local folder through signed, expiring links (see storage.py).

On S3/R2 the links point at the bucket instead and this view is never used.
"""

from django.core import signing
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from enhancement import storage


@require_safe
def serve_file(request, token: str):
    try:
        key, download_name = storage.unsign_local_token(token)
    except signing.BadSignature as exc:  # forged, tampered or expired: nothing to see here
        raise Http404("No such file.") from exc
    if not storage.is_local():
        raise Http404("No such file.")
    backend = storage.get_storage()
    try:
        fh = backend.open(key, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("No such file.") from exc
    response = FileResponse(fh, content_type=storage.content_type_for(key))
    if download_name:
        response["Content-Disposition"] = storage.attachment_header(download_name)
    response["Cache-Control"] = f"private, max-age={storage.url_max_age()}"
    response["X-Content-Type-Options"] = "nosniff"
    return response
