"""Pages of albums, share links and the gallery.

Owners manage their albums at `/albums/...` (every owner action loads the album with its owner in
the query: anyone else gets 404). Visitors see a PUBLIC album at `/albums/<id>/` and a shared one
at `/s/<token>/` (see `albums.access` for the rules); the gallery is `/gallery/`. Visitors are
shown derivatives only (`albums.presenters`), never an original.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from albums import access, downloads, forms, fragments, selectors, services
from albums.links import link
from albums.models import Album, AlbumPrivacy
from albums.presenters import GRID_SIZES, PICTURE_SIZES, Picture, Thumb, display_key
from albums.visitors import visitor_key
from core import ratelimit
from enhancement import storage
from enhancement.images import selectors as image_selectors
from enhancement.models import EnhancedImage

OG_REDIRECT_MAX_AGE = 300  # seconds a crawler may keep the OG image's redirect


def _own_album(request, album_id: str) -> Album:
    return get_object_or_404(Album, pk=album_id, user=request.user)


def _problem(request, *, title: str, message: str, back_url: str, status: int = 400):
    return render(
        request,
        "albums/problem.html",
        {"title": title, "message": message, "back_url": back_url},
        status=status,
    )


def _wants_json(request) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _first_error(form) -> str:
    for errors in form.errors.values():
        for error in errors:
            return str(error)
    return "That did not work. Please try again."


def _share_url(request, album: Album) -> str:
    if not album.share_token:
        return ""
    return request.build_absolute_uri(reverse("albums:shared", args=[album.share_token]))


def _private(response: HttpResponse) -> HttpResponse:
    """Pages behind a link or a password: never kept by a shared cache, never indexed."""
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- the owner's list ---------------------------------------------------------------------------
@login_required
@require_safe
def album_list(request):
    return _render_list(request, forms.AlbumForm())


def _render_list(request, form, status=200):
    cards = selectors.owner_albums(user=request.user)
    return render(
        request,
        "albums/list.html",
        {
            "items": [(card, Thumb.of(card.cover) if card.cover else None) for card in cards],
            "form": form,
            "grid_sizes": GRID_SIZES,
        },
        status=status,
    )


@login_required
@require_POST
def create(request):
    form = forms.AlbumForm(request.POST)
    if not form.is_valid():
        return _render_list(request, form, status=400)
    album = services.create_album(
        user=request.user,
        name=form.cleaned_data["name"],
        description=form.cleaned_data["description"],
    )
    messages.success(request, f"Album “{album.name}” created. Add some images to it.")
    return redirect("albums:detail", album_id=album.pk)


@login_required
@require_POST
def add_images(request):
    """Ticked images of the library, or one image from its page, into an album of the user's
    (or a new one, made in the same transaction: a failed add leaves no empty album)."""
    back = _next_url(request, reverse("images:library"))
    form = forms.AddToAlbumForm(request.POST)
    if not form.is_valid():
        return _problem(
            request, title="Nothing was added", message=_first_error(form), back_url=back
        )
    data = form.cleaned_data
    try:
        with transaction.atomic():
            if data["album"] == forms.NEW_ALBUM:
                album = services.create_album(user=request.user, name=data["new_album_name"])
            else:
                album = Album.objects.filter(pk=data["album"], user=request.user).first()
                if album is None:
                    raise Http404("No such album.")
            outcome = services.add_images(album=album, image_ids=data["image_ids"])
    except services.AlbumError as exc:
        return _problem(request, title="Nothing was added", message=str(exc), back_url=back)
    _report_added(request, album, outcome)
    return HttpResponseRedirect(back)


def _report_added(request, album: Album, outcome: services.AddOutcome) -> None:
    added, already = len(outcome.added), len(outcome.already)
    if added == 1 and not already:
        messages.success(request, f"Added to “{album.name}”.")
    elif added:
        text = f"Added {added} image{'s' if added != 1 else ''} to “{album.name}”."
        if already:
            text += f" {already} {'was' if already == 1 else 'were'} already there."
        messages.success(request, text)
    elif already == 1:
        messages.info(request, f"This image is already in “{album.name}”.")
    else:
        messages.info(request, f"These {already} images are already in “{album.name}”.")


# --- an album: the owner's page or a public album -----------------------------------------------
@require_safe
def detail(request, album_id: str):
    visit = access.visit_by_id(request, album_id)
    if visit.is_owner:
        return _render_manage(request, visit.album)
    return _render_album(request, visit)


def _render_manage(request, album: Album, *, album_form=None, sharing_form=None, status=200):
    entries = selectors.album_entries(album=album, for_visitors=False)
    return render(
        request,
        "albums/manage.html",
        {
            "album": album,
            "entries": entries,
            "entries_thumbs": [(entry, Thumb.of(entry.image)) for entry in entries],
            "cover_id": album.cover_image_id or (entries[0].image.pk if entries else None),
            "album_form": album_form
            or forms.AlbumForm(initial={"name": album.name, "description": album.description}),
            "sharing_form": sharing_form or forms.SharingForm(album=album),
            "share_url": _share_url(request, album),
            "link_expired": access.link_expired(album),
            "unpublication": services.active_unpublication(album=album),
            "grid_sizes": GRID_SIZES,
        },
        status=status,
    )


def _album_urls(visit: access.Visit) -> dict:
    album = visit.album
    if visit.via_link:
        token, share = album.share_token, ("share",)
        return {
            "album_url": link("albums:shared", token, kinds=share),
            "slideshow_url": link("albums:shared_slideshow", token, kinds=share),
            "og_image_url": link("albums:shared_og_image", token, kinds=share),
            "image_url_name": "albums:shared_image",
            "image_url_arg": token,
        }
    return {
        "album_url": link("albums:detail", album.pk),
        "slideshow_url": link("albums:slideshow", album.pk),
        "og_image_url": link("albums:og_image", album.pk),
        "image_url_name": "albums:image",
        "image_url_arg": album.pk,
    }


def _album_grid(visit: access.Visit) -> dict:
    """The album's grid of photos, rendered (kept a few seconds: see albums.fragments)."""
    album = visit.album
    for_visitors = not visit.is_owner

    def build():
        entries = selectors.album_entries(album=album, for_visitors=for_visitors)
        if visit.via_link:
            name, first, kinds = "albums:shared_image", album.share_token, ("share", "id")
        else:
            name, first, kinds = "albums:image", album.pk, ("id", "id")
        cards = [
            (Thumb.of(entry.image), link(name, first, entry.image.pk, kinds=kinds))
            for entry in entries
        ]
        html = render_to_string(
            "albums/_album_grid.html", {"cards": cards, "grid_sizes": GRID_SIZES}
        )
        return {"html": html, "count": len(entries)}

    parts = (
        "album",
        album.pk,
        album.updated_at.isoformat(),
        album.share_token if visit.via_link else "",
        for_visitors,
    )
    return fragments.cached(parts, build)


def _render_album(request, visit: access.Visit):
    album = visit.album
    services.count_album_view(album=album, viewer=request.user, visitor_key=visitor_key(request))
    urls = _album_urls(visit)

    def render_page(extra: dict):
        grid = _album_grid(visit)
        response = render(
            request,
            "albums/album.html",
            {
                "album": album,
                "visit": visit,
                "grid": grid["html"],
                "count": grid["count"],
                "page_url": request.build_absolute_uri(urls["album_url"]),
                "og_image": (
                    request.build_absolute_uri(urls["og_image_url"]) if grid["count"] else ""
                ),
                **urls,
                **extra,
            },
        )
        return _private(response) if visit.via_link else response

    parts = (
        "album page",
        request.get_host(),
        album.pk,
        album.updated_at.isoformat(),
        album.share_token if visit.via_link else "",
    )
    return fragments.page_for_cookieless(request, parts, render_page)


# --- one image of an album ----------------------------------------------------------------------
@require_safe
def album_image(request, album_id: str, image_id: str):
    return _render_image(request, access.visit_by_id(request, album_id), image_id)


def _render_image(request, visit: access.Visit, image_id: str):
    album = visit.album
    placed = selectors.album_entry(album=album, image_id=image_id, for_visitors=not visit.is_owner)
    if placed is None:
        raise Http404("No such image in this album.")
    image = placed.entry.image
    services.count_image_view(image=image, viewer=request.user, visitor_key=visitor_key(request))
    urls = _album_urls(visit)

    def image_url(other_id):
        if not other_id:
            return ""
        return reverse(urls["image_url_name"], args=[urls["image_url_arg"], other_id])

    download_url = ""
    if visit.is_owner or album.allow_download:
        name = "albums:shared_download" if visit.via_link else "albums:download"
        download_url = reverse(name, args=[urls["image_url_arg"], image.pk])
    response = render(
        request,
        "albums/image.html",
        {
            "album": album,
            "visit": visit,
            "image": image,
            "picture": Picture.of(image, placed.entry.best),
            "placed": placed,
            "previous_url": image_url(placed.previous_id),
            "next_url": image_url(placed.next_id),
            "download_url": download_url,
            "picture_sizes": PICTURE_SIZES,
            "page_url": request.build_absolute_uri(request.path),
            "og_image": request.build_absolute_uri(urls["og_image_url"]),
            **urls,
        },
    )
    return _private(response) if visit.via_link else response


def _download(request, visit: access.Visit, image_id: str):
    album = visit.album
    if not (visit.is_owner or album.allow_download):
        raise Http404("Downloads are off for this album.")
    placed = selectors.album_entry(album=album, image_id=image_id, for_visitors=not visit.is_owner)
    if placed is None:
        raise Http404("No such image in this album.")
    key = f"album-download:{visitor_key(request)}"
    if not ratelimit.hit(key=key, limit=settings.ALBUM_DOWNLOADS_PER_MINUTE, window_seconds=60):
        response = _problem(
            request,
            title="Slow down a little",
            message="That is a lot of downloads in a minute. Please wait a minute and try again.",
            back_url=request.path.rsplit("download/", 1)[0],
            status=429,
        )
        response["Retry-After"] = str(ratelimit.retry_after())
        return response
    try:
        copy = downloads.visitor_copy(placed.entry.image, placed.entry.best)
    except downloads.DownloadUnavailable:
        return _problem(
            request,
            title="Download unavailable",
            message="This image cannot be downloaded just now. Please try again later.",
            back_url=request.path.rsplit("download/", 1)[0],
            status=404,
        )
    response = HttpResponse(copy.data, content_type=copy.content_type)
    response["Content-Disposition"] = storage.attachment_header(copy.filename)
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
def download(request, album_id: str, image_id: str):
    return _download(request, access.visit_by_id(request, album_id), image_id)


# --- the slideshow ------------------------------------------------------------------------------
def _slides(visit: access.Visit) -> list[dict]:
    entries = selectors.album_entries(album=visit.album, for_visitors=not visit.is_owner)
    return [Picture.of(entry.image, entry.best).as_slide() for entry in entries]


def _render_slideshow(request, visit: access.Visit):
    urls = _album_urls(visit)
    slides_url = (
        reverse("albums:shared_slides", args=[visit.album.share_token])
        if visit.via_link
        else reverse("albums:slides", args=[visit.album.pk])
    )
    response = render(
        request,
        "albums/slideshow.html",
        {
            "album": visit.album,
            "visit": visit,
            "slides": _slides(visit),
            "slides_url": slides_url,
            # refresh the signed URLs well before they expire (a photo frame runs for days)
            "refresh_after": max(60, settings.STORAGE_URL_EXPIRES // 2),
            **urls,
        },
    )
    return _private(response) if visit.via_link else response


def _slides_json(visit: access.Visit) -> JsonResponse:
    response = JsonResponse(
        {
            "slides": _slides(visit),
            "refresh_after": max(60, settings.STORAGE_URL_EXPIRES // 2),
        }
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
def slideshow(request, album_id: str):
    return _render_slideshow(request, access.visit_by_id(request, album_id))


@require_safe
def slides(request, album_id: str):
    return _slides_json(access.visit_by_id(request, album_id))


# --- Open Graph images: a fresh signed URL for as long as the album or image is shown ---------
def _og_redirect(key: str) -> HttpResponse:
    if not key:
        raise Http404("No picture to show.")
    response = HttpResponseRedirect(storage.url_for(key))
    response["Cache-Control"] = f"public, max-age={OG_REDIRECT_MAX_AGE}"
    return response


def _cover_key(album: Album) -> str:
    entries = selectors.album_entries(album=album, for_visitors=True)
    if not entries:
        return ""
    chosen = next((e for e in entries if e.image.pk == album.cover_image_id), entries[0])
    return display_key(chosen.image, chosen.best)


@require_safe
def og_image(request, album_id: str):
    album = get_object_or_404(Album, pk=album_id, privacy=AlbumPrivacy.PUBLIC)
    return _og_redirect(_cover_key(album))


@require_safe
def gallery_og_image(request, image_id: str):
    image = get_object_or_404(EnhancedImage, pk=image_id, is_public=True)
    if services.active_image_unpublication(image_id=image.pk) is not None:
        raise Http404("No such image.")
    best = selectors.best_results([image.pk]).get(image.pk)
    return _og_redirect(display_key(image, best))


# --- share links: /s/<token>/ -------------------------------------------------------------------
def link_view(view):
    """A view of `/s/<token>/...`: a link that does not work gets the link page's 404 (one
    answer whether it never existed, was rotated, turned off or expired)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except access.LinkGone:
            response = render(request, "albums/link_gone.html", status=404)
            return _private(response)

    return wrapper


def _unlocked_or_ask(request, visit: access.Visit):
    """None when the visitor may go on; else a redirect to the link's password form."""
    if not visit.locked:
        return None
    return redirect("albums:shared", share_token=visit.album.share_token)


@link_view
@require_http_methods(["GET", "HEAD", "POST"])
def shared(request, share_token: str):
    visit = access.visit_by_link(request, share_token)
    if request.method == "POST":
        return _unlock(request, visit)
    if visit.locked:
        return _render_password(request, visit, forms.PasswordForm())
    return _render_album(request, visit)


def _render_password(request, visit: access.Visit, form, *, error: str = "", status=200):
    response = render(
        request,
        "albums/password.html",
        {"visit": visit, "form": form, "error": error},
        status=status,
    )
    return _private(response)


def _unlock(request, visit: access.Visit):
    album = visit.album
    if not visit.locked:
        return redirect("albums:shared", share_token=album.share_token)
    per_visitor = ratelimit.hit(
        key=f"album-password:{album.pk}:{visitor_key(request)}",
        limit=settings.ALBUM_PASSWORD_TRIES_PER_MINUTE,
        window_seconds=60,
    )
    per_link = ratelimit.hit(
        key=f"album-password:{album.pk}",
        limit=settings.ALBUM_PASSWORD_TRIES_PER_LINK_PER_MINUTE,
        window_seconds=60,
    )
    if not (per_visitor and per_link):
        response = _render_password(
            request,
            visit,
            forms.PasswordForm(),
            error="Too many tries in a minute. Please wait a minute, then try again.",
            status=429,
        )
        response["Retry-After"] = str(ratelimit.retry_after())
        return response
    form = forms.PasswordForm(request.POST)
    if not form.is_valid():
        return _render_password(request, visit, form, status=400)
    if not access.password_matches(album, form.cleaned_data["password"]):
        return _render_password(
            request,
            visit,
            forms.PasswordForm(),
            error="That password is not right. Check it and try again.",
            status=400,
        )
    access.unlock(request, album)
    return redirect("albums:shared", share_token=album.share_token)


@link_view
@require_safe
def shared_image(request, share_token: str, image_id: str):
    visit = access.visit_by_link(request, share_token)
    return _unlocked_or_ask(request, visit) or _render_image(request, visit, image_id)


@link_view
@require_safe
def shared_download(request, share_token: str, image_id: str):
    visit = access.visit_by_link(request, share_token)
    return _unlocked_or_ask(request, visit) or _download(request, visit, image_id)


@link_view
@require_safe
def shared_slideshow(request, share_token: str):
    visit = access.visit_by_link(request, share_token)
    return _unlocked_or_ask(request, visit) or _render_slideshow(request, visit)


@link_view
@require_safe
def shared_slides(request, share_token: str):
    visit = access.visit_by_link(request, share_token)
    if visit.locked:
        raise Http404("This link needs its password.")
    return _slides_json(visit)


@require_safe
def shared_og_image(request, share_token: str):
    """The picture of a link's preview (Open Graph): only while the link works and has no
    password (a password-protected album shows nothing of itself in a preview)."""
    album = Album.objects.filter(share_token=share_token).first()
    if album is None or not access.link_works(album) or album.has_password:
        raise Http404("No such link.")
    return _og_redirect(_cover_key(album))


# --- the owner's actions on an album ------------------------------------------------------------
def _back_to_album(album: Album, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("albums:detail", args=[album.pk]) + anchor)


@login_required
@require_POST
def edit(request, album_id: str):
    album = _own_album(request, album_id)
    form = forms.AlbumForm(request.POST)
    if not form.is_valid():
        return _render_manage(request, album, album_form=form, status=400)
    services.update_album(
        album=album, name=form.cleaned_data["name"], description=form.cleaned_data["description"]
    )
    messages.success(request, "Saved.")
    return _back_to_album(album)


@login_required
@require_POST
def sharing(request, album_id: str):
    album = _own_album(request, album_id)
    form = forms.SharingForm(request.POST, album=album)
    if not form.is_valid():
        return _render_manage(request, album, sharing_form=form, status=400)
    data = form.cleaned_data
    try:
        album = services.set_sharing(
            album=album,
            privacy=data["privacy"],
            expires_at=data["expires_at"],
            password=data["new_password"],
            allow_download=data["allow_download"],
        )
    except services.AlbumError as exc:
        form.add_error(None, str(exc))
        return _render_manage(request, album, sharing_form=form, status=400)
    texts = {
        AlbumPrivacy.PRIVATE: "Sharing is off: only you can see this album.",
        AlbumPrivacy.UNLISTED: "Shared: anyone with the link can see this album.",
        AlbumPrivacy.PUBLIC: "Public: this album is listed in the gallery.",
    }
    messages.success(request, texts[album.privacy])
    return _back_to_album(album, "#sharing")


@login_required
@require_POST
def rotate_link(request, album_id: str):
    album = _own_album(request, album_id)
    try:
        services.rotate_link(album=album)
    except services.AlbumError as exc:
        messages.error(request, str(exc))
        return _back_to_album(album, "#sharing")
    messages.success(request, "New link made: the old one no longer works.")
    return _back_to_album(album, "#sharing")


@login_required
@require_POST
def stop_sharing(request, album_id: str):
    album = _own_album(request, album_id)
    services.stop_sharing(album=album)
    messages.success(request, "Sharing is off: the link no longer works.")
    return _back_to_album(album, "#sharing")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def delete(request, album_id: str):
    album = _own_album(request, album_id)
    if request.method == "POST":
        name = album.name
        services.delete_album(album=album)
        messages.success(request, f"Album “{name}” deleted. Its images are still in your library.")
        return redirect("albums:list")
    return render(request, "albums/confirm_delete.html", {"album": album})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def pick(request, album_id: str):
    """Add images to the album from the library, a page of it at a time."""
    album = _own_album(request, album_id)
    if request.method == "POST":
        form = forms.ImageIdsForm(request.POST)
        if not form.is_valid():
            messages.error(request, _first_error(form))
            return _render_pick(request, album, status=400)
        try:
            outcome = services.add_images(album=album, image_ids=form.cleaned_data["image_ids"])
        except services.AlbumError as exc:
            messages.error(request, str(exc))
            return _render_pick(request, album, status=400)
        _report_added(request, album, outcome)
        return _back_to_album(album)
    return _render_pick(request, album)


def _render_pick(request, album: Album, status=200):
    page = image_selectors.library_page(user=request.user, page_number=request.GET.get("page"))
    present = set(album.album_images.values_list("image_id", flat=True))
    return render(
        request,
        "albums/pick.html",
        {
            "album": album,
            "page": page,
            "thumbs": [(Thumb.of(image), image.pk in present) for image in page.object_list],
            "grid_sizes": GRID_SIZES,
        },
        status=status,
    )


def _order_answer(request, album: Album, *, error: str = ""):
    if _wants_json(request):
        if error:
            return JsonResponse({"error": error}, status=400)
        return JsonResponse({"ok": True})
    if error:
        messages.error(request, error)
        return _render_manage(request, album, status=400)
    return _back_to_album(album, "#images")


@login_required
@require_POST
def reorder(request, album_id: str):
    album = _own_album(request, album_id)
    form = forms.OrderForm(request.POST)
    if not form.is_valid():
        return _order_answer(request, album, error=services.BadOrder().args[0])
    try:
        services.reorder(album=album, image_ids=form.cleaned_data["ids"])
    except services.AlbumError as exc:
        return _order_answer(request, album, error=str(exc))
    if not _wants_json(request):
        messages.success(request, "New order saved.")
    return _order_answer(request, album)


@login_required
@require_POST
def move_image(request, album_id: str, image_id: str):
    album = _own_album(request, album_id)
    form = forms.MoveForm(request.POST)
    if not form.is_valid():
        return _order_answer(request, album, error="Choose up or down.")
    try:
        services.move_image(album=album, image_id=image_id, offset=form.offset)
    except services.AlbumError as exc:
        return _order_answer(request, album, error=str(exc))
    return _order_answer(request, album)


@login_required
@require_POST
def remove_image(request, album_id: str, image_id: str):
    album = _own_album(request, album_id)
    try:
        services.remove_image(album=album, image_id=image_id)
    except services.AlbumError as exc:
        messages.error(request, str(exc))
        return _render_manage(request, album, status=400)
    messages.success(request, "Removed from the album (it is still in your library).")
    return _back_to_album(album, "#images")


@login_required
@require_POST
def cover(request, album_id: str):
    album = _own_album(request, album_id)
    form = forms.CoverForm(request.POST)
    if not form.is_valid():
        messages.error(request, services.ImageNotInAlbum().args[0])
        return _render_manage(request, album, status=400)
    try:
        services.set_cover(album=album, image_id=form.cleaned_data["image_id"] or None)
    except services.AlbumError as exc:
        messages.error(request, str(exc))
        return _render_manage(request, album, status=400)
    messages.success(request, "Cover chosen.")
    return _back_to_album(album, "#images")


# --- the gallery --------------------------------------------------------------------------------
@require_safe
def gallery(request):
    query = forms.gallery_query(request.GET)
    size = settings.GALLERY_PAGE_SIZE
    show, sort = query["show"], query["sort"]
    albums = show == "albums"
    select = selectors.gallery_albums if albums else selectors.gallery_images

    def page_of(after: str, before: str):
        def build():
            try:
                page = select(sort=sort, after=after, before=before, size=size)
            except selectors.BadCursor:
                return None
            if albums:
                items = [
                    (
                        card,
                        Thumb.of(card.cover) if card.cover else None,
                        link("albums:detail", card.album.pk),
                    )
                    for card in page.rows
                ]
            else:
                items = [
                    (image, Thumb.of(image), link("images:detail", image.pk)) for image in page.rows
                ]
            html = render_to_string(
                "albums/_gallery_cards.html",
                {"items": items, "albums": albums, "grid_sizes": GRID_SIZES},
            )
            return {
                "html": html,
                "count": len(items),
                "next": page.next_cursor,
                "previous": page.previous_cursor,
            }

        return fragments.cached(("gallery", show, sort, after, before, size), build)

    def render_page(extra: dict):
        fragment = None if query["bad_cursor"] else page_of(query["after"], query["before"])
        error = ""
        if fragment is None:
            error = "That page link is not one of ours. Here is the first page."
            fragment = page_of("", "")
        return render(
            request,
            "albums/gallery.html",
            {
                "query": query,
                "fragment": fragment,
                "error": error,
                "sorts": selectors.Sort.CHOICES,
                **extra,
            },
            status=400 if error else 200,
        )

    if query["bad_cursor"]:
        return render_page({})
    parts = ("gallery page", request.get_host(), show, sort, query["after"], query["before"])
    return fragments.page_for_cookieless(request, parts, render_page)
