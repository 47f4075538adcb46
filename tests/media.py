"""Reading the private media links a page shows (local storage)."""

import html as html_lib
import re

from enhancement import storage

_LOCAL_LINK = re.compile(r"/media/f/([A-Za-z0-9_\-:.]+)/")


def media_keys(html: str) -> set[str]:
    """The storage keys of every signed local media link in `html` (comparing keys, not URLs:
    a URL signed a second later differs)."""
    return {
        storage.unsign_local_token(token)[0]
        for token in _LOCAL_LINK.findall(html_lib.unescape(html))
    }
