"""django-q2 entry points for enhancement jobs.

Tasks take ids, load fresh rows and call the job verbs (`enhancement.jobs.worker`, `.sweeper`);
queues deliver at least once, and both tasks are safe to run twice (a job is claimed by a
conditional update, every transition re-checks the state under a row lock).

These dotted paths are stored in queued messages and in the sweeper's `Schedule` row: they are
the stable entry points, whatever the modules behind them are called.

- `run_enhancement_job(job_id)`: one attempt of a job. Enqueued after the order commits (on the
  priority cluster for users whose plan has priority) and by the sweeper for retries.
- `sweep_stuck_jobs()`: the sweeper, run every 30 seconds by the schedule that
  `enhancement/migrations/0002_job_sweeper_schedule.py` creates and `0008` makes a CRON one.
"""

from __future__ import annotations

from enhancement.jobs import sweeper, worker


def run_enhancement_job(job_id: str) -> str:
    return worker.process_job(job_id=job_id)


def sweep_stuck_jobs() -> dict:
    return sweeper.recover_stuck_jobs().as_dict()
