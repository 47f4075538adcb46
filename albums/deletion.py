"""What an account's deletion asks of albums (registered in `AlbumsConfig.ready()` with
`accounts.deletion`): every album of the user, with its list of photos and its share link,
which stops working at once. The photos themselves are enhancement's (deleted by its step)."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser

from accounts.deletion import Summary
from albums.models import Album, AlbumPrivacy
from core.text import plural


def delete_albums_of(user: AbstractBaseUser) -> None:
    """Delete the user's albums (their photo lists and unpublication records go with them)."""
    Album.objects.filter(user=user).delete()


def summary(user: AbstractBaseUser) -> Summary:
    albums = Album.objects.filter(user=user)
    count = albums.count()
    if not count:
        return Summary()
    text = plural(count, "album")
    shared = albums.exclude(privacy=AlbumPrivacy.PRIVATE).count()  # unlisted or public
    if shared == 1:
        text += ", and the link of the one you share: it stops working at once"
    elif shared:
        text += f", and the links of the {shared} you share: they stop working at once"
    return Summary(deleted=[text])
