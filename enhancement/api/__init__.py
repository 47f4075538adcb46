"""The public API for plans with API access (`/api/v1/`), its keys and its webhooks.

- `api.py`: the endpoints (django-ninja), thin: each parses, calls the site's own service
  (uploads, orders, cancel, downloads, tiers, balance) and shapes the answer.
- `auth.py`: `Authorization: Bearer <key>`; the plan check (403) and the rate limit (429).
- `services.py`: the verbs of keys and webhook endpoints (create, revoke, redeliver).
- `webhooks.py`: the sender: signed events when a job completes or is refunded, retried.
- `views.py` / `urls.py`: the account's pages for keys and webhooks, and the reference page.

Nothing else in enhancement imports this package: job verbs send `models.job_finished` and
the webhooks listen (connected in `apps.py`).
"""
