def token_balance(request):
    """The balance badge in the navigation bar (filled in by the tokens issue)."""
    return {}
