"""Typed, strict readers of the environment for `config.settings` (healthchecks' `envbool` /
`envint`): a value that is not what the setting needs stops start-up with a message naming
the variable, never a silent default or a surprise at the first request.

Values come from the process environment, after `.env` was read into it (django-environ).
"""

from __future__ import annotations

import json
import os
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None  # NAME= (empty) means "use the default"


def env_bool(name: str, default: bool) -> bool:
    """`true`/`false` (also 1/0, yes/no, on/off; any case). Anything else, such as `ture`,
    refuses to start."""
    value = _raw(name)
    if value is None:
        return default
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name} must be true or false, got {value!r} "
        f"(accepted: {', '.join(TRUE_WORDS)} / {', '.join(FALSE_WORDS)})."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """A whole number, at least `minimum` when one is given."""
    value = _raw(name)
    if value is None:
        number = default
    else:
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}.")
    return number


def positive_int(name: str, default: int) -> int:
    """A whole number > 0."""
    return env_int(name, default, minimum=1)


def non_negative_int(name: str, default: int) -> int:
    """A whole number >= 0."""
    return env_int(name, default, minimum=0)


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (as written there)."""
    value = _raw(name)
    if value is None:
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}.")
    return value


def decimal_table(name: str, default: dict[str, dict[str, str]]) -> dict[str, dict[str, Decimal]]:
    """`default` (names to {rate name: amount}) with the entries of the JSON object in `name`
    (when set) put over it, whole; every amount a Decimal of at least 0. A value that is not
    such an object, or an amount that is not a number, refuses to start."""
    table = dict(default)
    value = _raw(name)
    if value is not None:
        try:
            extra = json.loads(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a JSON object, got {value!r}.") from None
        if not isinstance(extra, dict) or not all(isinstance(v, dict) for v in extra.values()):
            raise ImproperlyConfigured(
                f'{name} must be a JSON object of objects, e.g. {{"local": {{"cpu_second": '
                f'"0.00001"}}}}; got {value!r}.'
            )
        table.update(extra)
    parsed = {}
    for key, rates in table.items():
        parsed[key] = {}
        for rate, amount in rates.items():
            try:
                number = Decimal(str(amount))
            except InvalidOperation:
                number = Decimal("NaN")
            if not number.is_finite() or number < 0:
                raise ImproperlyConfigured(
                    f"{name}: {key}.{rate} must be a number of at least 0, got {amount!r}."
                )
            parsed[key][rate] = number
    return parsed
