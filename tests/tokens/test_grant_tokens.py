"""'Grant tokens' in the back office: through the ledger, with the amount, the reason and the
staff user recorded; a resubmitted form grants nothing more; bad input is refused."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.factories import UserFactory
from tokens import services
from tokens.models import TokenTransaction, TokenTransactionType, UserTokenBalance

pytestmark = pytest.mark.django_db
URL = reverse("admin:tokens_usertokenbalance_changelist")


@pytest.fixture
def staff_client(client):
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client, staff


def test_staff_grant_tokens_with_a_reason_once(staff_client):
    client, staff = staff_client
    alice, bob = UserFactory(balance=3), UserFactory()
    chosen = list(
        UserTokenBalance.objects.filter(user__in=[alice, bob]).values_list("pk", flat=True)
    )

    page = client.post(URL, {"action": "grant_tokens", "_selected_action": chosen})
    assert page.status_code == 200 and "Tokens to grant to each user" in page.content.decode()
    key = re.search(r'name="key" value="([^"]+)"', page.content.decode())[1]
    form = {
        "action": "grant_tokens",
        "_selected_action": chosen,
        "apply": "1",
        "amount": "25",
        "reason": "Sorry for the outage",
        "key": key,
    }
    done = client.post(URL, form, follow=True)
    assert "Granted 25 tokens to 2 users" in done.content.decode()
    client.post(URL, form)  # the same form again: nothing more

    assert services.get_balance(alice) == 28 and services.get_balance(bob) == 25
    grant = TokenTransaction.objects.get(user=bob, source="staff")
    assert grant.type == TokenTransactionType.EARN_BONUS
    assert grant.metadata == {
        "reason": "Sorry for the outage",
        "by_id": staff.pk,
        "by": staff.email,
    }
    call_command("check_ledger")


@pytest.mark.parametrize(
    ("amount", "reason"), [("0", "x"), ("-5", "x"), ("abc", "x"), ("999999", "x"), ("5", "")]
)
def test_bad_input_grants_nothing(staff_client, amount, reason):
    client, _ = staff_client
    user = UserFactory()
    chosen = [UserTokenBalance.objects.get(user=user).pk]
    response = client.post(
        URL,
        {
            "action": "grant_tokens",
            "_selected_action": chosen,
            "apply": "1",
            "amount": amount,
            "reason": reason,
            "key": "2f1b8a3e-8b4e-4a5e-9c1d-3e2f1b8a3e8b",
        },
    )
    assert response.status_code == 200  # the form again, with its message
    assert services.get_balance(user) == 0
    assert not TokenTransaction.objects.filter(source="staff").exists()
