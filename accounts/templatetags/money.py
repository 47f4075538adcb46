from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()

_SYMBOLS = {"gbp": "£", "usd": "$", "eur": "€"}


@register.filter
def money(amount, currency="gbp"):
    """`{{ price|money:"gbp" }}` -> "£2.99"; an unknown currency is written out: "2.99 CHF"."""
    if amount is None or amount == "":
        return ""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    code = (currency or "gbp").lower()
    symbol = _SYMBOLS.get(code)
    if symbol:
        return f"{symbol}{value:,}"
    return f"{value:,} {code.upper()}"


@register.filter
def per_unit(amount, units):
    """`{{ price|per_unit:tokens|money:"gbp" }}`: the price of one unit (rounded by `money`)."""
    try:
        units = int(units)
        if units <= 0:
            return None
        return Decimal(str(amount)) / units
    except (TypeError, ValueError, ArithmeticError):
        return None
