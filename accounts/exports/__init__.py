"""The "Download my data" export: one zip of everything a user has here, built by a worker.

- `sections`: the registry each app puts its part of the export into (accounts knows no app
  above it; each registers its writer from its `AppConfig.ready()`).
- `archive`: the zip being written, which the writers add files and JSON to, streamed.
- `builder`: the worker's verb (build, store, mark READY, e-mail) and the sweep.
- `services`: requesting an export, its signed download link.
"""
