"""What the benchmarks that run their own processes share: a throwaway database, running a
command, closing Django's connections, and a database URL fit to print.

Imported as `bench.scratch` by scripts whose folder is taken off `sys.path` (so that
bench/tokens.py cannot shadow the `tokens` app) and whose project root is put on it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(command: list[str], env: dict) -> None:
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")


def throwaway_database(folder: Path, name: str):
    """(DATABASE_URL of a fresh database, a function that drops it): `name` on the PostgreSQL
    server of DATABASE_URL when that is PostgreSQL (never the database it names), else a SQLite
    file in `folder`."""
    import environ

    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        config = environ.Env.db_url_config(url)
        admin = {
            "host": config.get("HOST") or None,
            "port": config.get("PORT") or None,
            "user": config.get("USER") or None,
            "password": config.get("PASSWORD") or None,
            "dbname": "postgres",
        }

        def execute(sql: str) -> None:
            import psycopg

            with psycopg.connect(**admin, autocommit=True) as conn:
                conn.execute(sql)

        execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        execute(f'CREATE DATABASE "{name}"')
        base = url.rsplit("/", 1)[0]
        return f"{base}/{name}", lambda: execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return f"sqlite:///{folder / 'bench.sqlite3'}", lambda: None


def close_connections() -> None:
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
        pass


def redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url
