"""Custom domains of apps: what people type, made into the one form we store.

`normalize_domain("https://Bücher.Example")` refuses the scheme;
`normalize_domain("Bücher.Example")` is `"xn--bcher-kva.example"`: IDNA 2008 with the UTS 46
mapping (the `idna` package, so full-width letters and upper case map to their plain lower-case
forms), lower case, no trailing dot. Two spellings of the same host therefore store the same
string, and the unique constraints see them as one. Anything that is not a host name (a URL,
a port, a path, spaces, an IP address, a single label) is refused with a message that says
what to type instead.
"""

from __future__ import annotations

import re

import idna

MAX_LENGTH = 253  # a DNS name, dots included
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
EXAMPLE = "app.example.com"


class InvalidDomain(ValueError):
    """`message` says what is wrong and what to type instead."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def normalize_domain(raw: str | None) -> str | None:
    """The stored form of a custom domain, or None for an empty value. Raises `InvalidDomain`."""
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > MAX_LENGTH * 4:  # far beyond any host name, even before IDNA
        raise InvalidDomain(f"That is too long for a domain name: at most {MAX_LENGTH} characters.")
    if "://" in value or value.startswith("//"):
        raise InvalidDomain(
            f"Enter the host name only, without http:// or https:// (for example {EXAMPLE})."
        )
    if any(ch in value for ch in "/?#\\"):
        raise InvalidDomain(f"Enter the host name only, without a path (for example {EXAMPLE}).")
    if "@" in value:
        raise InvalidDomain(
            f"Enter the host name only, without a user name (for example {EXAMPLE})."
        )
    if ":" in value or "[" in value:
        raise InvalidDomain(f"Enter the host name only, without a port (for example {EXAMPLE}).")
    if any(ch.isspace() for ch in value):
        raise InvalidDomain("A domain name has no spaces.")
    if value.endswith(".") and not value.endswith(".."):
        value = value[:-1]  # the root's dot: "example.com." is "example.com"
    try:
        ascii_form = idna.encode(value, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        if len(value) > MAX_LENGTH:  # most likely what the encoder refused
            raise InvalidDomain(
                f"That is too long for a domain name: at most {MAX_LENGTH} characters."
            ) from None
        raise InvalidDomain(
            "That is not a valid domain name. Each part between dots may use letters, digits "
            "and hyphens (not first or last), up to 63 characters, for example "
            f"{EXAMPLE}."
        ) from None
    ascii_form = ascii_form.lower()
    labels = ascii_form.split(".")
    if len(ascii_form) > MAX_LENGTH:
        raise InvalidDomain(f"That is too long for a domain name: at most {MAX_LENGTH} characters.")
    if len(labels) < 2:
        raise InvalidDomain(f"Enter a full domain name, with a dot: for example {EXAMPLE}.")
    if not all(_LABEL.match(label) for label in labels):
        raise InvalidDomain(
            "That is not a valid domain name. Each part between dots may use letters, digits "
            f"and hyphens (not first or last), for example {EXAMPLE}."
        )
    if labels[-1].isdigit():
        raise InvalidDomain(f"Enter a domain name, not an IP address (for example {EXAMPLE}).")
    return ascii_form


def display_domain(stored: str) -> str:
    """A stored domain as people read it: its Unicode form (the stored form if it has none)."""
    try:
        return idna.decode(stored)
    except (idna.IDNAError, UnicodeError):
        return stored
