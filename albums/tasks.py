"""django-q2 entry points of albums (stable dotted paths: a `Schedule` row names them).

- `prune_daily_views()`: daily, deletes the view records that decide nothing any more (a view
  counts once per visitor per day: yesterday's rows and older). Safe to run twice.
"""

from __future__ import annotations

from albums import services


def prune_daily_views() -> int:
    return services.prune_daily_views()
