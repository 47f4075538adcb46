"""'Free to start' is true: a verified address earns the welcome grant once, through the ledger,
never twice for the same address (nor twice for one account), however often sign-up or
verification is repeated."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from tests.factories import DEFAULT_PASSWORD
from tokens import services
from tokens.models import TokenTransaction, TokenTransactionType

pytestmark = pytest.mark.django_db


def sign_up(client, email):
    response = client.post(
        "/accounts/signup/",
        {"email": email, "password1": DEFAULT_PASSWORD, "password2": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302, response.content[:500]
    return get_user_model().objects.get(email__iexact=email)


def confirm_last_mail(client, mailoutbox):
    match = re.search(
        rf"{re.escape(settings.SITE_URL)}(/accounts/confirm-email/\S+)", mailoutbox[-1].body
    )
    assert match, mailoutbox[-1].body
    return client.post(match.group(1))


def welcomes(user):
    return list(
        TokenTransaction.objects.filter(user=user, source="signup").values_list("type", "amount")
    )


def test_a_new_account_gets_its_welcome_when_it_verifies_its_address(client, mailoutbox):
    carol = sign_up(client, "Carol@Example.com")
    assert services.get_balance(carol) == 0  # not before the address is verified

    confirm_last_mail(client, mailoutbox)

    assert services.get_balance(carol) == settings.TOKEN_WELCOME_GRANT == 10
    assert welcomes(carol) == [(TokenTransactionType.EARN_BONUS, 10)]
    call_command("check_ledger")


def test_confirming_again_or_another_address_gives_nothing_more(client, mailoutbox):
    carol = sign_up(client, "carol@example.com")
    confirm_last_mail(client, mailoutbox)
    confirm_last_mail(client, mailoutbox)  # the same link again
    client.post("/accounts/email/", {"action_add": "", "email": "carol.two@example.com"})
    confirm_last_mail(client, mailoutbox)  # a second address of the same account

    assert services.get_balance(carol) == 10
    assert len(welcomes(carol)) == 1


def test_a_deleted_account_signing_up_again_with_the_same_address_gets_none(mailoutbox):
    first = Client()
    carol = sign_up(first, "carol@example.com")
    confirm_last_mail(first, mailoutbox)
    assert services.get_balance(carol) == 10
    carol.delete()

    again = Client()
    carol_again = sign_up(again, "CAROL@example.com")
    confirm_last_mail(again, mailoutbox)

    assert services.get_balance(carol_again) == 0
    assert welcomes(carol_again) == []
    call_command("check_ledger")


def test_the_grant_is_a_setting(client, mailoutbox, settings):
    settings.TOKEN_WELCOME_GRANT = 0
    carol = sign_up(client, "carol@example.com")
    confirm_last_mail(client, mailoutbox)
    assert services.get_balance(carol) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_verifications_of_one_address_grant_once():
    import threading

    from django.db import connection

    from tests.factories import UserFactory

    users = [UserFactory() for _ in range(8)]
    barrier = threading.Barrier(len(users))

    def verify(user):
        try:
            barrier.wait()
            services.grant_welcome(user=user, email="shared@example.com")
        finally:
            connection.close()

    threads = [threading.Thread(target=verify, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(services.get_balance(u) for u in users) == 10
    call_command("check_ledger")
