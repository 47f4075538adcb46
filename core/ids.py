"""Primary keys: cuid2-like strings.

A letter followed by 24 base-36 characters from the OS's CSPRNG: URL-safe, non-sequential and
unguessable, so an id in a URL reveals nothing (not even the order of creation).
"""

import re
import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits
ID_LENGTH = 25
# What every id looks like (for checking ids that come from outside: forms, URLs).
ID_REGEX = rf"[a-z][a-z0-9]{{{ID_LENGTH - 1}}}"
ID_PATTERN = re.compile(ID_REGEX)


def new_id() -> str:
    """A fresh id. The one generator of ids: rows made in SQL take theirs from here too."""
    return secrets.choice(string.ascii_lowercase) + "".join(
        secrets.choice(_ALPHABET) for _ in range(ID_LENGTH - 1)
    )


def new_share_token() -> str:
    """A long random token for share links (not a primary key)."""
    return secrets.token_urlsafe(24)
