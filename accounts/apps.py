from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from accounts import checks, deletion, services, signals  # noqa: F401

        # accounts' own part of an account's deletion, after every app's: the data exports,
        # then the anonymised tombstone and the end of every session.
        deletion.register("accounts_exports", services.delete_data_exports, order=900)
        deletion.register(
            "accounts", services.anonymise_and_end_sessions, order=deletion.ANONYMISE_ORDER
        )
        deletion.register_summary("accounts", services.account_summary, order=0)
        # Its part of "Download my data" (accounts.exports.sections), and its files follow
        # its rows.
        from accounts import data_export
        from accounts.exports import signals as export_signals  # noqa: F401

        data_export.register()
