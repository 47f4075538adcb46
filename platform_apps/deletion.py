"""What an account's deletion asks of platform apps (registered in `PlatformAppsConfig.ready()`
with `accounts.deletion`): every app of the user goes for good (not the soft delete of the
apps page), with its requirements and monetization models; forks made by others stay and say
their parent is gone."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser

from accounts.deletion import Summary
from core.text import plural
from platform_apps.models import App


def delete_apps_of(user: AbstractBaseUser) -> None:
    App.objects.filter(user=user).delete()


def summary(user: AbstractBaseUser) -> Summary:
    count = App.objects.filter(user=user).count()
    if not count:
        return Summary()
    return Summary(deleted=[f"{plural(count, 'platform app')}, drafts included"])
