"""Album parts for other apps' pages: enhancement's templates load these (`{% load album_tags %}`)
so that enhancement never imports albums; the data comes from albums' own selectors.

- `{% image_albums_panel image %}`: on the owner's image page, the albums it is in, an "add to
  album" form (or a new album), the share box of a public image, and staff's note if they
  unpublished it.
- `{% library_albums_bar %}`: on the library, "add the ticked images to an album" (its button
  submits the library's batch form to albums' view) and "select all on this page".
- `{% public_image_meta image %}`: Open Graph and Twitter card tags of a public image's page.
- `{% public_image_picture image %}`: the best version of a public image (before/after slider
  when enhanced), for visitors: derivatives only.
- `{% share_box url title %}`: a link with "Copy link" and "Share…" buttons.
"""

from __future__ import annotations

from django import template
from django.urls import reverse

from albums import selectors, services
from albums.presenters import PICTURE_SIZES, Picture

register = template.Library()


def _request(context):
    return context.get("request")


@register.inclusion_tag("albums/_image_albums_panel.html", takes_context=True)
def image_albums_panel(context, image):
    request = _request(context)
    user = getattr(request, "user", None)
    albums = selectors.albums_for_image(user=user, image=image) if user else []
    share_url = ""
    if image.is_public and request is not None:
        share_url = request.build_absolute_uri(reverse("images:detail", args=[image.pk]))
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "image": image,
        "albums_in": [album for album in albums if album.has_image],
        "albums_out": [album for album in albums if not album.has_image],
        "share_url": share_url,
        "unpublication": services.active_image_unpublication(image_id=image.pk),
        "next": request.get_full_path() if request is not None else "",
    }


@register.inclusion_tag("albums/_library_albums_bar.html", takes_context=True)
def library_albums_bar(context):
    request = _request(context)
    user = getattr(request, "user", None)
    return {
        "csrf_token": context.get("csrf_token"),
        "albums": selectors.album_choices(user=user) if user else [],
        "next": request.get_full_path() if request is not None else "",
    }


@register.inclusion_tag("albums/_og.html", takes_context=True)
def public_image_meta(context, image):
    request = _request(context)
    og_image = ""
    page_url = ""
    if request is not None:
        og_image = request.build_absolute_uri(reverse("albums:gallery_og_image", args=[image.pk]))
        page_url = request.build_absolute_uri(reverse("images:detail", args=[image.pk]))
    return {
        "SITE_NAME": context.get("SITE_NAME"),
        "og_title": image.name,
        "og_description": image.description
        or f"A photo by {image.user.public_label} on {context.get('SITE_NAME') or 'Lumen'}.",
        "page_url": page_url,
        "og_image": og_image,
    }


@register.inclusion_tag("albums/_picture.html")
def public_image_picture(image):
    best = selectors.best_results([image.pk]).get(image.pk)
    return {"picture": Picture.of(image, best), "picture_sizes": PICTURE_SIZES}


@register.inclusion_tag("albums/_share_box.html")
def share_box(url, title, label="Share"):
    return {"url": url, "title": title, "label": label}
