import datetime as dt

import pytest

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
SECOND = dt.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _regeneration_defaults(settings):
    """The product's numbers, whatever the environment says."""
    settings.TOKEN_REGEN_INTERVAL_MINUTES = 15
    settings.TOKEN_REGEN_CAP = 100
    settings.TOKEN_SIGNUP_BALANCE = 0


@pytest.fixture
def clock(time_machine):
    """A frozen clock at T0; `clock.move_to(T0 + ...)` to travel."""
    time_machine.move_to(T0, tick=False)
    return time_machine
