from django.apps import AppConfig


class EnhancementConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "enhancement"
    verbose_name = "Enhancement"

    def ready(self):
        from accounts import deletion as account_deletion
        from enhancement import (
            deletion,
            signals,  # noqa: F401
        )
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
        # An account's deletion: its images, jobs (unfinished ones refunded), results, API keys
        # and webhooks; the files after the commit.
        account_deletion.register("enhancement", deletion.delete_everything_of, order=40)
        account_deletion.register_summary("enhancement", deletion.summary, order=40)
        # Its part of "Download my data" (accounts.exports.sections).
        from enhancement import data_export

        data_export.register()
