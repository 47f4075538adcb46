"""Primary keys: cuid2-like strings.

A letter followed by 24 base-36 characters from the OS's CSPRNG: URL-safe, non-sequential and
unguessable, so an id in a URL reveals nothing (not even the order of creation).
"""

import re
import secrets
import string

_FIRST = string.ascii_lowercase
_ALPHABET = string.ascii_lowercase + string.digits
ID_LENGTH = 25
# What every id looks like (for checking ids that come from outside: forms, URLs).
ID_REGEX = rf"[a-z][a-z0-9]{{{ID_LENGTH - 1}}}"
ID_PATTERN = re.compile(ID_REGEX)
# 160 random bits per id, read in one call: 26 * 36**24 (about 2**129) ids are possible, so the
# modulo bias of spreading 2**160 values over them is below 1e-9.
_RANDOM_BYTES = 20


def new_id() -> str:
    """A fresh id. The one generator of ids: rows made in SQL take theirs from here too.

    One read of the OS's CSPRNG per id (`secrets.choice` per character read it 25 times and
    was 12 times slower, which showed in bulk inserts such as the scheduled regeneration)."""
    number = int.from_bytes(secrets.token_bytes(_RANDOM_BYTES), "big")
    number, first = divmod(number, len(_FIRST))
    characters = [_FIRST[first]]
    for _ in range(ID_LENGTH - 1):
        number, index = divmod(number, len(_ALPHABET))
        characters.append(_ALPHABET[index])
    return "".join(characters)


def new_share_token() -> str:
    """A long random token for share links (not a primary key)."""
    return secrets.token_urlsafe(24)
