"""Deleting an account: the hook by which every app deletes what it holds of a user, and the
one verb that runs them all.

accounts knows none of the apps above it. Each app that keeps something of a user registers
its own steps in its `AppConfig.ready()`:

    from accounts import deletion

    deletion.register_preparation("billing", cancel_subscription, order=10)
    deletion.register("enhancement", delete_images_and_jobs, order=40)
    deletion.register_summary("enhancement", images_summary, order=40)

The contract:
- A *preparation* runs first, outside any transaction, in `order`: the calls to another
  service that must succeed before anything is deleted (cancelling the subscription at
  Stripe). It raises `DeletionBlocked` with a sentence for the user to stop the deletion;
  nothing of ours has been deleted then (what an earlier preparation did elsewhere, such as a
  cancelled subscription, stays done: it is what the user asked for).
- A *step* runs inside the one transaction of the deletion, in `order`, with the user's row
  locked. It deletes the app's rows of the user through the app's own verbs; files in storage
  go after the commit (`transaction.on_commit`), so a rolled-back deletion loses no file. An
  exception rolls everything back.
- A *summary* says, for the confirmation page, what the app will delete and what it keeps:
  `Summary(deleted=[...], kept=[...])`, short sentences with the user's own counts.

accounts' own last step (order 1000) anonymises the user row and ends every session. The row
itself stays, as a tombstone without e-mail, name or password, because payments, the token
ledger, the Stripe customer and voucher redemptions point at it and are kept for the accounts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from core.logging import log_event

logger = logging.getLogger(__name__)

ANONYMISE_ORDER = 1000


class DeletionBlocked(Exception):
    """A preparation could not be done (a service unreachable): nothing was deleted. `str(e)` is
    a sentence the user can read."""


@dataclass(frozen=True)
class Summary:
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Entry:
    name: str
    order: int
    function: Callable


_preparations: dict[str, _Entry] = {}
_steps: dict[str, _Entry] = {}
_summaries: dict[str, _Entry] = {}


def register_preparation(
    name: str, function: Callable[[AbstractBaseUser], None], *, order: int
) -> None:
    """Run `function(user)` before the deletion's transaction (registering a name again
    replaces it)."""
    _preparations[name] = _Entry(name, order, function)


def register(name: str, function: Callable[[AbstractBaseUser], None], *, order: int) -> None:
    """Run `function(user)` inside the deletion's transaction (registering a name again
    replaces it)."""
    _steps[name] = _Entry(name, order, function)


def register_summary(
    name: str, function: Callable[[AbstractBaseUser], Summary], *, order: int
) -> None:
    """Describe, for the confirmation page, what `name` deletes and keeps of a user."""
    _summaries[name] = _Entry(name, order, function)


def unregister(name: str) -> None:
    """Forget the preparation, step and summary registered under `name` (if any)."""
    for registry in (_preparations, _steps, _summaries):
        registry.pop(name, None)


def _ordered(registry: dict[str, _Entry]) -> list[_Entry]:
    return sorted(registry.values(), key=lambda entry: (entry.order, entry.name))


def summary(user: AbstractBaseUser) -> Summary:
    """Everything the deletion of `user` deletes and keeps, in the steps' order."""
    deleted: list[str] = []
    kept: list[str] = []
    for entry in _ordered(_summaries):
        part = entry.function(user)
        deleted += part.deleted
        kept += part.kept
    return Summary(deleted=deleted, kept=kept)


def delete_account(*, user: AbstractBaseUser) -> None:
    """Delete `user`'s account: every preparation (raises `DeletionBlocked`, nothing deleted),
    then every step in one transaction under the user row's lock, ending with the anonymised
    tombstone and no session left. Files go after the commit. Deleting an account already
    deleted does nothing."""
    from accounts.models import User

    if not User.objects.filter(pk=user.pk, is_active=True).exists():
        return
    for entry in _ordered(_preparations):
        entry.function(user)
    with transaction.atomic():
        row = User.objects.select_for_update().filter(pk=user.pk, is_active=True).first()
        if row is None:
            return  # deleted meanwhile (a double-click)
        for entry in _ordered(_steps):
            entry.function(row)
        log_event(logger, "account.deleted", user_id=user.pk)
