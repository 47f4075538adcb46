from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The API has no models of its own (its rows are enhancement's); as an app it connects
    the webhook sender to the job signal in every process, the workers included."""

    name = "enhancement.api"
    label = "enhancement_api"
    verbose_name = "Public API"

    def ready(self):
        from enhancement.api import webhooks  # noqa: F401 (connects its signal receiver)
