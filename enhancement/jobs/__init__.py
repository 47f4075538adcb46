"""Enhancement jobs: tiers, ordering, the life of a job, the worker, the sweeper, their pages.

The life of a job (SCHEMA.md):

    PENDING -> PROCESSING -> COMPLETED
                         \\-> FAILED -> (retry, back-off) -> PROCESSING ...
                                    \\-> REFUNDED

- `ordering`: spending the tokens and creating the job happen in ONE transaction; the task is
  enqueued after the commit (`queue`). A form's `request_key` is unique in the database, so a
  double-click or a resubmitted form finds the job the first submission made.
- `transitions`: every move of a job, each locking the job row (`select_for_update`),
  re-checking its state and returning when it is already done, so a task delivered twice
  changes nothing the second time. A worker claims a job with a conditional UPDATE; exactly
  one worker gets 1 row.
- `worker`: one attempt (claim, run the engine outside any transaction, store, complete), or
  the failure recorded: FAILED with a back-off while tries remain, else REFUNDED with the
  tokens back in the same transaction (one REFUND keyed by the job, so never twice).
- `sweeper`: jobs whose worker died, retries that are due, messages that were lost.
- `selectors`, `export`: reading jobs and converting their results for download.
- `forms`, `views`, `presenters`, `urls`, `admin`: the pages and the back office.

The django-q2 entry points stay in `enhancement.tasks` (their dotted paths are stored in the
queue and in `Schedule` rows).
"""

# The `source` of the ledger rows a job writes (its spend and its refund).
LEDGER_SOURCE = "enhancement"
