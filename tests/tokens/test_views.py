"""The tokens page, its status fragment and the navigation badge."""

import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import UserFactory
from tests.tokens.conftest import MINUTE, SECOND, T0
from tokens import services
from tokens.context_processors import token_balance
from tokens.models import TokenTransaction, TokenTransactionType, UserTokenBalance

pytestmark = pytest.mark.django_db
PAGE = reverse("tokens:page")
STATUS = reverse("tokens:status")
T = TokenTransactionType


def rows(response) -> list[str]:
    body = response.content.decode()
    tbody = re.search(r"<tbody>(.*?)</tbody>", body, re.S)
    return re.findall(r"<tr>(.*?)</tr>", tbody.group(1), re.S) if tbody else []


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def fill_history(user, spends: int):
    services.grant(
        user=user, amount=spends * 2, type=T.EARN_PURCHASE, source="stripe", source_id="pi_123"
    )
    for i in range(spends):
        services.spend(user=user, amount=2, source="enhancement", source_id=f"job{i}")


@pytest.mark.parametrize("url", [PAGE, STATUS])
def test_anonymous_visitors_are_sent_to_sign_in(anon_client, url):
    response = anon_client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_page_shows_balance_cap_and_countdown(clock, user, owner_client):
    services.grant(user=user, amount=7, type=T.EARN_BONUS, source="voucher", source_id="v1")
    clock.move_to(T0 + 20 * MINUTE)  # one token due, 10 minutes to the next

    response = owner_client.get(PAGE)

    assert response.status_code == 200
    body = response.content.decode()
    assert '<span class="token-balance-figure">8</span>' in body
    assert "up to 100" in body
    assert 'data-seconds="600"' in body
    assert "in about 10 minutes" in body  # what a visitor without JavaScript reads
    assert f'datetime="{(T0 + 30 * MINUTE).isoformat()}"' in body
    assert "tokens/countdown.js" in body
    # Reading the page applied the regeneration for real.
    assert UserTokenBalance.objects.get(user=user).balance == 8


def test_the_countdown_never_says_zero_minutes(clock, user, owner_client):
    clock.move_to(T0 + 14 * MINUTE + 59 * SECOND)
    body = owner_client.get(PAGE).content.decode()
    assert 'data-seconds="1"' in body and "in about 1 minute<" in body


def test_at_the_cap_there_is_no_countdown(clock, user, owner_client):
    services.grant(user=user, amount=120, type=T.EARN_PURCHASE, source="stripe")
    body = owner_client.get(PAGE).content.decode()
    assert "at or above the cap of 100" in body
    assert "data-token-countdown" not in body


def test_history_says_what_each_transaction_came_from(clock, user, owner_client):
    from enhancement.models import DeletedJob
    from tests.factories import ImageEnhancementJobFactory, stored_image

    beach = ImageEnhancementJobFactory(image=stored_image(user, name="Beach at dusk"), user=user)
    gone = ImageEnhancementJobFactory(image=stored_image(user, name="Old"), tier="TIER_1K")
    unknown = "job0000000000000000000099"  # a row written by hand: no job, no record
    services.grant(user=user, amount=50, type=T.EARN_PURCHASE, source="stripe", source_id="pi_42")
    services.grant(user=user, amount=5, type=T.EARN_BONUS, source="voucher", source_id="WELCOME")
    services.spend(user=user, amount=5, source="enhancement", source_id=beach.pk)
    services.refund(
        user=user,
        amount=5,
        source="enhancement",
        source_id=beach.pk,
        idempotency_key=f"refund:{beach.pk}",
    )
    clock.move_to(T0 + 16 * MINUTE)
    services.spend(user=user, amount=2, source="enhancement", source_id=gone.pk)
    gone.image.delete()  # the job goes with its image and leaves its record
    assert DeletedJob.objects.filter(pk=gone.pk).exists()
    services.spend(user=user, amount=1, source="enhancement", source_id=unknown)

    listed = [text(row) for row in rows(owner_client.get(PAGE))]

    assert listed == [
        f"5 Jan 2026, 12:16 Enhancement -1 53 Enhancement job {unknown}",
        "5 Jan 2026, 12:16 Enhancement -2 54 Enhanced a deleted image at 1K",
        "5 Jan 2026, 12:16 Regeneration +1 56 Regeneration",
        "5 Jan 2026, 12:00 Refund +5 55 Enhanced “Beach at dusk” at 2K",
        "5 Jan 2026, 12:00 Enhancement -5 50 Enhanced “Beach at dusk” at 2K",
        "5 Jan 2026, 12:00 Bonus +5 55 Voucher WELCOME",
        "5 Jan 2026, 12:00 Purchase +50 50 Payment pi_42",
    ]
    body = owner_client.get(PAGE).content.decode()
    assert body.count(f'href="{reverse("jobs:detail", args=[beach.pk])}"') == 2
    # what no longer exists is text, never a link to a 404
    assert reverse("jobs:detail", args=[gone.pk]) not in body
    assert reverse("jobs:detail", args=[unknown]) not in body


def test_each_user_sees_only_their_own_history(clock, user, other_user, stranger_client):
    fill_history(user, 3)
    services.grant(user=other_user, amount=4, type=T.EARN_BONUS, source="voucher", source_id="BOBS")

    response = stranger_client.get(PAGE)

    assert [text(r) for r in rows(response)] == ["5 Jan 2026, 12:00 Bonus +4 4 Voucher BOBS"]
    assert "job0" not in response.content.decode()
    assert '<span class="token-balance-figure">4</span>' in response.content.decode()


def test_the_history_filters_by_type(clock, user, owner_client):
    fill_history(user, 3)

    response = owner_client.get(PAGE, {"type": T.EARN_PURCHASE})

    assert response.status_code == 200
    assert [text(r) for r in rows(response)] == ["5 Jan 2026, 12:00 Purchase +6 6 Payment pi_123"]
    assert '<option value="EARN_PURCHASE" selected>' in response.content.decode()


def test_a_filter_with_no_match_says_so(clock, user, owner_client):
    fill_history(user, 1)
    response = owner_client.get(PAGE, {"type": T.REFUND})
    assert rows(response) == []
    assert "No transactions of this type yet." in response.content.decode()


def test_an_unknown_type_is_a_clear_400(clock, user, owner_client):
    fill_history(user, 1)
    response = owner_client.get(PAGE, {"type": "FREE_MONEY"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert len(rows(response)) == 2  # the whole history, unfiltered


def test_an_empty_history_has_an_empty_state(clock, user, owner_client):
    assert "No transactions yet." in owner_client.get(PAGE).content.decode()


def test_the_history_is_paginated_by_25_and_keeps_the_filter(clock, user, owner_client):
    fill_history(user, 30)  # 1 purchase + 30 spends

    first = owner_client.get(PAGE, {"type": T.SPEND_ENHANCEMENT})
    body = first.content.decode()
    assert len(rows(first)) == 25
    assert "Page 1 of 2" in body
    assert '?type=SPEND_ENHANCEMENT&amp;page=2"' in body

    second = owner_client.get(PAGE, {"type": T.SPEND_ENHANCEMENT, "page": 2})
    assert [text(r).split()[-1] for r in rows(second)] == [f"job{i}" for i in range(4, -1, -1)]
    assert owner_client.get(PAGE, {"page": "nonsense"}).status_code == 200
    assert len(rows(owner_client.get(PAGE, {"page": 99}))) == 6  # the last page


@pytest.mark.parametrize("spends", [5, 50])
def test_the_page_query_count_does_not_grow_with_the_history(
    clock, user, owner_client, django_assert_max_num_queries, spends
):
    fill_history(user, spends)
    clock.move_to(T0 + 31 * MINUTE)  # and a regeneration to write on the way
    # Fixed whatever the history's length: the page's job names come in two batched queries.
    with django_assert_max_num_queries(14):
        response = owner_client.get(PAGE)
    assert len(rows(response)) == min(25, spends + 2)


def test_the_status_fragment_refreshes_card_and_badge(clock, user, owner_client):
    clock.move_to(T0 + 45 * MINUTE)

    response = owner_client.get(STATUS, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="token-status"' in body and '<span class="token-balance-figure">3</span>' in body
    assert 'id="balance-badge" hx-swap-oob="true">3 tokens</a>' in body


def test_the_badge_shows_the_balance_on_every_page(clock, user, owner_client):
    services.grant(user=user, amount=12, type=T.EARN_BONUS, source="test")
    clock.move_to(T0 + 31 * MINUTE)

    body = owner_client.get(reverse("home")).content.decode()

    # Two tokens are due: the badge shows them without writing anything.
    assert re.search(r'id="balance-badge">\s*14 tokens', body)
    assert UserTokenBalance.objects.get(user=user).balance == 12
    assert not TokenTransaction.objects.filter(type=T.EARN_REGENERATION).exists()


def test_the_badge_context_is_one_query_and_none_for_anonymous(
    clock, user, django_assert_num_queries
):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert token_balance(request) == {"token_balance": None}

    request.user = UserFactory(balance=5)
    clock.move_to(T0 + 15 * MINUTE)
    with django_assert_num_queries(1):
        assert token_balance(request) == {"token_balance": 6}
