"""django-q2 entry points for enhancement jobs.

Tasks take ids, load fresh rows and call `enhancement.jobs`; queues deliver at least once, and
both tasks are safe to run twice (a job is claimed by a conditional update, every transition
re-checks the state under a row lock).

- `run_enhancement_job(job_id)`: one attempt of a job. Enqueued after the order commits (on the
  priority cluster for users whose plan has priority) and by the sweeper for retries.
- `sweep_stuck_jobs()`: the sweeper, run every minute by the schedule that
  `enhancement/migrations/0002_job_sweeper_schedule.py` creates.
"""

from __future__ import annotations

from enhancement import jobs


def run_enhancement_job(job_id: str) -> str:
    return jobs.process_job(job_id=job_id)


def sweep_stuck_jobs() -> dict:
    return jobs.recover_stuck_jobs().as_dict()
