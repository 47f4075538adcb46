import math

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from tokens import selectors, services
from tokens.forms import TransactionFilterForm

HISTORY_PAGE_SIZE = 25


def _status_context(user) -> dict:
    status = services.get_balance_status(user)
    seconds = status.seconds_to_next_token
    return {
        "status": status,
        "interval_minutes": int(status.interval.total_seconds() // 60),
        "minutes_to_next_token": None if seconds is None else max(1, math.ceil(seconds / 60)),
    }


@login_required
@require_safe
def page(request):
    """Balance, the next token, the cap, and the history (filtered by type, paginated)."""
    form = TransactionFilterForm(request.GET)
    chosen = form.cleaned_data["type"] if form.is_valid() else None
    context = _status_context(request.user)
    history = Paginator(
        selectors.transactions_for(request.user, type=chosen), HISTORY_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    context.update(
        form=form,
        history=history,
        rows=list(zip(history, selectors.origins_of(history), strict=True)),
        filtered=bool(chosen),
    )
    return render(request, "tokens/page.html", context, status=200 if form.is_valid() else 400)


@login_required
@require_safe
def status(request):
    """The balance card alone (htmx refreshes it when the countdown ends), with the
    navigation badge swapped out of band."""
    return render(request, "tokens/_status_response.html", _status_context(request.user))
