"""accounts' own verbs of an account's deletion (registered in `AccountsConfig.ready()` as the
last steps of `accounts.deletion.delete_account`): the data exports, the anonymised tombstone,
the end of every session."""

from __future__ import annotations

from importlib import import_module

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers import registry as provider_registry
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db.models import Q
from django.utils import timezone

from accounts.deletion import Summary
from accounts.models import DataExport, User


def delete_data_exports(user: User) -> None:
    """Every data export of the user, whatever its state; each export's zip goes after the
    commit (`accounts.exports.signals`), and a worker still building one finds its row gone."""
    DataExport.objects.filter(user=user).delete()


def anonymise(user: User) -> None:
    """Make the user row a tombstone: no e-mail address, name, picture or usable password, not
    active, not staff, in no group; the allauth e-mail addresses and connected accounts go. The
    row (its id) stays for what points at it and is kept: payments, the ledger, the Stripe
    customer, voucher redemptions. The same address can sign up again as a new user."""
    EmailAddress.objects.filter(user=user).delete()
    SocialAccount.objects.filter(user=user).delete()  # their tokens go with them (cascade)
    user.email = None
    user.email_verified = None
    user.name = None
    user.public_name = ""
    user.image = None
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.last_login = None
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


def end_sessions(user: User) -> int:
    """Delete every stored session signed in as `user` (the database session engines: the
    session rows are read and decoded, since they are not indexed by user). Whatever session
    engine is used, a session of a user made inactive with a new password hash no longer
    authenticates anyway; this removes them outright. Returns how many were ended."""
    engine = import_module(settings.SESSION_ENGINE)
    store_class = engine.SessionStore
    if not hasattr(store_class, "get_model_class"):
        return 0  # cache or cookie sessions cannot be listed; they fail authentication
    model = store_class.get_model_class()
    user_id = str(user.pk)
    ended = 0
    rows = model.objects.filter(Q(expire_date__gt=timezone.now())).values_list(
        "session_key", "session_data"
    )
    for key, data in rows.iterator():
        if str(store_class().decode(data).get(SESSION_KEY)) == user_id:
            store_class(session_key=key).delete()  # the row, and a cached copy if any
            ended += 1
    return ended


def anonymise_and_end_sessions(user: User) -> None:
    anonymise(user)
    end_sessions(user)


def account_summary(user: User) -> Summary:
    addresses = EmailAddress.objects.filter(user=user).count()
    parts = ["your e-mail address" + ("es" if addresses > 1 else "")]
    if user.has_usable_password():
        parts.append("your password")
    parts.append("your public name")
    deleted = [(", ".join(parts[:-1]) + " and " + parts[-1]).capitalize()]
    providers = sorted(
        {
            (provider_registry.get_class(p).name if provider_registry.get_class(p) else p)
            for p in SocialAccount.objects.filter(user=user).values_list("provider", flat=True)
        }
    )
    if providers:
        deleted.append(f"The connection to your {' and '.join(providers)} sign-in")
    return Summary(deleted=deleted)
