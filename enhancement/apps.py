from django.apps import AppConfig


class EnhancementConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "enhancement"
    verbose_name = "Enhancement"

    def ready(self):
        from enhancement import signals  # noqa: F401
        from enhancement.jobs import LEDGER_SOURCE
        from enhancement.jobs.selectors import describe_jobs, known_job_ids
        from tokens import sources as ledger_sources

        ledger_sources.register(
            LEDGER_SOURCE,
            label="Enhancement job",
            url_name="jobs:detail",
            known_ids=known_job_ids,
            describe_ids=describe_jobs,
        )
