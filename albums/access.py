"""Who may see an album, by its address or by its share link; the link's password in the session.

The rules (anything else is a 404, never a 403, so a stranger cannot tell that an album exists):
- `/albums/<id>/`: its owner, or anyone when the album is PUBLIC.
- `/s/<token>/`: anyone with the current token of a shared (UNLISTED or PUBLIC) album whose link
  has not expired; behind the link's password when it has one. A rotated token, a link turned
  off or expired answers exactly like a token that never existed. The owner always gets in (with
  a note of what visitors see).
- A password entered right is remembered in the session for that link only: rotating the link
  or changing its password asks for it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import check_password
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from albums.models import Album, AlbumPrivacy

SESSION_KEY = "albums.unlocked"
MAX_REMEMBERED = 50  # links unlocked per session (the oldest forgotten first)


class LinkGone(Http404):
    """A share link that does not work (never did, rotated, turned off or expired): one answer
    for all, the link page's own 404."""


@dataclass(frozen=True)
class Visit:
    album: Album
    is_owner: bool
    via_link: bool  # reached through /s/<token>/
    locked: bool  # the link's password is still to be entered

    @property
    def expired(self) -> bool:
        return link_expired(self.album)


def _is_owner(request: HttpRequest, album: Album) -> bool:
    return request.user.is_authenticated and request.user.pk == album.user_id


def link_expired(album: Album, now=None) -> bool:
    return album.share_expires_at is not None and album.share_expires_at <= (now or timezone.now())


def link_works(album: Album, now=None) -> bool:
    """Whether a visitor holding the album's current token gets in (password aside)."""
    return (
        album.privacy != AlbumPrivacy.PRIVATE
        and bool(album.share_token)
        and not link_expired(album, now)
    )


# The album alone, by its primary key or its share token (both unique): this lookup runs on
# every visit, those served a kept page included (access is never cached, so a rotated or
# stopped link dies at once). Written as one fixed statement through `raw()`: the query
# compiler cost more than the query (0.8 ms against 0.3 ms on the bench's machine). Pages
# rendered afresh load the owner's public name when they show it.
_LOOKUP_COLUMNS = {"pk": "id", "share_token": "share_token"}


def _album(**lookup) -> Album | None:
    ((field, value),) = lookup.items()
    table = Album._meta.db_table
    column = _LOOKUP_COLUMNS[field]
    sql = f'SELECT * FROM "{table}" WHERE "{column}" = %s LIMIT 1'  # noqa: S608 (fixed names)
    return next(iter(Album.objects.raw(sql, [value])), None)


def visit_by_id(request: HttpRequest, album_id: str) -> Visit:
    album = _album(pk=album_id)
    if album is None:
        raise Http404("No such album.")
    if _is_owner(request, album):
        return Visit(album, is_owner=True, via_link=False, locked=False)
    if album.privacy != AlbumPrivacy.PUBLIC:
        raise Http404("No such album.")
    return Visit(album, is_owner=False, via_link=False, locked=False)


def visit_by_link(request: HttpRequest, share_token: str) -> Visit:
    album = _album(share_token=share_token)
    if album is None:
        raise LinkGone()
    if _is_owner(request, album):
        return Visit(album, is_owner=True, via_link=True, locked=False)
    if not link_works(album):
        raise LinkGone()
    locked = album.has_password and not is_unlocked(request, album)
    return Visit(album, is_owner=False, via_link=True, locked=locked)


# --- the link's password ------------------------------------------------------------------------
def _fingerprint(album: Album) -> str:
    # Changes when the token rotates or the password changes: an unlock is for that link only.
    return salted_hmac(
        "albums.access.unlock", f"{album.share_token}|{album.share_password}"
    ).hexdigest()


def is_unlocked(request: HttpRequest, album: Album) -> bool:
    remembered = request.session.get(SESSION_KEY) or {}
    value = remembered.get(album.pk) if isinstance(remembered, dict) else None
    return isinstance(value, str) and constant_time_compare(value, _fingerprint(album))


def password_matches(album: Album, password: str) -> bool:
    return bool(album.share_password) and check_password(password, album.share_password)


def unlock(request: HttpRequest, album: Album) -> None:
    remembered = request.session.get(SESSION_KEY)
    if not isinstance(remembered, dict):
        remembered = {}
    remembered.pop(album.pk, None)
    remembered[album.pk] = _fingerprint(album)
    while len(remembered) > MAX_REMEMBERED:
        remembered.pop(next(iter(remembered)))
    request.session[SESSION_KEY] = remembered
    # a new session key after a privilege change, as after a sign-in
    request.session.cycle_key()
