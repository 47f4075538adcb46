"""What a ledger row came from, as the history shows it: the hook by which callers describe
their own `source` values.

tokens knows none of its callers. An app that writes ledger rows (enhancement, billing,
vouchers) registers its sources in its `AppConfig.ready()`: a label, and optionally the URL
name of the page for one `source_id` (a path with one argument, the id). The history then
links to that page without tokens importing the caller or naming its URLs.

    ledger_sources.register("enhancement", label="Enhancement job", url_name="jobs:detail")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

REGENERATION_SOURCE = "regeneration"
SIGNUP_SOURCE = "signup"
STAFF_SOURCE = "staff"  # tokens granted by hand in the back office (its source_id: the staff user)


@dataclass(frozen=True)
class Source:
    label: str
    url_name: str | None = None  # a page for one source_id, if there is one
    show_reference: bool = True  # whether the source_id means something to the user
    # Given source_ids, which of them still name a record (for `check_ledger`); None: unchecked.
    known_ids: Callable[[set[str]], Iterable[str]] | None = None
    # Given source_ids, what the history says of each: {id: (text, url or None)}, one call per
    # page ("Enhanced “Beach” at 2K" and its page); ids it leaves out are shown as plain text.
    describe_ids: Callable[[set[str]], dict[str, tuple[str, str | None]]] | None = None


_registry: dict[str, Source] = {
    REGENERATION_SOURCE: Source("Regeneration"),
    # Its source_id is the user's own id: nothing to show.
    SIGNUP_SOURCE: Source("Welcome tokens", show_reference=False),
    STAFF_SOURCE: Source("Granted by our team", show_reference=False),
}


def register(
    name: str,
    *,
    label: str,
    url_name: str | None = None,
    show_reference: bool = True,
    known_ids: Callable[[set[str]], Iterable[str]] | None = None,
    describe_ids: Callable[[set[str]], dict[str, tuple[str, str | None]]] | None = None,
) -> None:
    """Describe the ledger rows whose `source` is `name`. Registering again replaces.

    `known_ids(ids)` returns those of `ids` that still name something (a job, or the record a
    deleted job left); `check_ledger` reports every ledger row whose source_id is not known."""
    _registry[name] = Source(
        label=label,
        url_name=url_name,
        show_reference=show_reference,
        known_ids=known_ids,
        describe_ids=describe_ids,
    )


def checked_sources() -> dict[str, Callable[[set[str]], Iterable[str]]]:
    """The sources whose references `check_ledger` can verify."""
    return {name: s.known_ids for name, s in _registry.items() if s.known_ids is not None}


def describe(name: str | None) -> Source:
    """The registered description of a source; an unknown one gets its own name as a label."""
    if name in _registry:
        return _registry[name]
    return Source(label=(name or "—").replace("_", " ").capitalize())
