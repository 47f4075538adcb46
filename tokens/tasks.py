"""django-q2 entry points for tokens."""

from tokens import services

REGENERATION_SCHEDULE_NAME = "Token regeneration"
REGENERATION_FUNC = "tokens.tasks.regenerate_all"
REGENERATION_CRON = "*/15 * * * *"


def regenerate_all() -> int:
    """The schedule's task: credit every balance below the cap with what is due. Takes no
    arguments, safe to run twice or late (the rule counts whole intervals from each balance's
    own clock). Returns how many balances were credited."""
    return services.regenerate_all().users
