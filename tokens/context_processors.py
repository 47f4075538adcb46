from tokens.models import UserTokenBalance
from tokens.regeneration import project_balance


def token_balance(request):
    """`token_balance` for the navigation badge on every page: the balance with what
    regeneration has made due, computed for display without writing (one plain query, no lock;
    the next read or spend writes it). None for anonymous visitors."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"token_balance": None}
    row = (
        UserTokenBalance.objects.filter(user_id=user.pk)
        .values_list("balance", "last_regeneration")
        .first()
    )
    if row is None:
        return {"token_balance": 0}
    balance, last_regeneration = row
    return {
        "token_balance": project_balance(
            balance=balance, last_regeneration=last_regeneration
        ).balance
    }
