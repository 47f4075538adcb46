"""The redeem form on the tokens page, the redeem page and the /redeem/<code>/ link, for the
owner, another user and a visitor."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory, VoucherFactory
from tokens import services as tokens
from vouchers.models import VoucherRedemption, VoucherType

pytestmark = pytest.mark.django_db

REDEEM = "/vouchers/redeem/"


def test_the_tokens_page_has_the_redeem_form(owner_client):
    body = owner_client.get(reverse("tokens:page")).content.decode()
    assert 'id="redeem"' in body and f'action="{REDEEM}"' in body and 'name="code"' in body


def test_redeeming_fixed_tokens_shows_the_new_balance(owner_client, user):
    VoucherFactory(code="GIFT10", value=10)
    tokens.grant(user=user, amount=5, type="EARN_BONUS", source="test")

    response = owner_client.post(REDEEM, {"code": "gift-10"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("tokens:page")
    body = response.content.decode()
    assert "10 tokens added. Your balance is now 15." in body
    assert tokens.get_balance(user) == 15


@pytest.mark.parametrize(
    ("kind", "shown"),
    [
        (VoucherType.PERCENTAGE_BONUS, "A bonus is waiting"),
        (VoucherType.SUBSCRIPTION_TRIAL, "A trial is waiting"),
    ],
)
def test_what_waits_is_shown_on_the_tokens_and_pricing_pages(owner_client, kind, shown):
    VoucherFactory(code="HELD", type=kind, value=20)
    response = owner_client.post(REDEEM, {"code": "held"}, follow=True)

    assert shown in response.content.decode()
    assert shown in owner_client.get(reverse("billing:pricing")).content.decode()


def test_the_pricing_page_shows_nothing_waiting_without_a_voucher(owner_client, anon_client):
    for client in (owner_client, anon_client):
        body = client.get(reverse("billing:pricing")).content.decode()
        assert "is waiting" not in body


@pytest.mark.parametrize(
    ("setup", "code", "message"),
    [
        ({}, "NOSUCH", "That code is not valid. Check it and try again."),
        ({"status": "INACTIVE"}, "CODE", "This voucher is no longer active."),
        ({"status": "EXPIRED"}, "CODE", "This voucher has expired."),
        ({"max_uses": 1, "current_uses": 1}, "CODE", "fully redeemed"),
        ({}, "", "Enter a voucher code."),
        ({}, "x" * 500, "That code is not valid"),
    ],
)
def test_each_refusal_is_a_400_with_its_message_and_the_code_kept(
    owner_client, user, setup, code, message
):
    VoucherFactory(code="CODE", **setup)

    response = owner_client.post(REDEEM, {"code": code})

    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert tokens.get_balance(user) == 0 and not VoucherRedemption.objects.exists()


def test_a_second_redemption_by_the_same_user_is_refused(owner_client, user):
    VoucherFactory(code="ONCE", value=4)
    owner_client.post(REDEEM, {"code": "ONCE"})

    response = owner_client.post(REDEEM, {"code": "once"})

    assert response.status_code == 400
    assert "You have already redeemed this voucher." in response.content.decode()
    assert tokens.get_balance(user) == 4


def test_tries_are_limited_per_user(owner_client, user, settings):
    settings.VOUCHER_REDEEM_PER_HOUR_USER = 5
    VoucherFactory(code="RIGHT", value=1)
    for i in range(5):
        assert owner_client.post(REDEEM, {"code": f"WRONG{i}"}).status_code == 400

    response = owner_client.post(REDEEM, {"code": "RIGHT"})

    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many attempts" in response.content.decode()
    assert tokens.get_balance(user) == 0


def test_tries_are_limited_per_address_across_users(client, settings):
    settings.VOUCHER_REDEEM_PER_HOUR_IP = 20
    statuses = []
    for _ in range(7):
        client.force_login(UserFactory())
        for _ in range(3):
            statuses.append(
                client.post(REDEEM, {"code": "WRONG"}, REMOTE_ADDR="10.0.0.9").status_code
            )
    assert statuses[:20] == [400] * 20 and set(statuses[20:]) == {429}
    # another address is not held back by this one
    assert client.post(REDEEM, {"code": "WRONG"}, REMOTE_ADDR="10.0.0.10").status_code == 400


def test_the_link_prefills_the_form_for_a_member(owner_client):
    VoucherFactory(code="LINKED")

    response = owner_client.get("/redeem/linked/")

    assert response.status_code == 302
    assert response["Location"] == reverse("tokens:page") + "?code=LINKED#redeem"
    body = owner_client.get(response["Location"]).content.decode()
    assert 'value="LINKED"' in body
    assert not VoucherRedemption.objects.exists()  # following a link redeems nothing


def test_a_visitor_signs_up_and_comes_back_to_the_prefilled_form(anon_client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"
    VoucherFactory(code="CAMPAIGN", value=7)

    response = anon_client.get("/redeem/campaign/")
    assert response.status_code == 200
    body = response.content.decode()
    signup_url = reverse("account_signup") + "?next=%2Fredeem%2FCAMPAIGN%2F"
    assert f'href="{signup_url}"' in body
    assert f'href="{reverse("account_login")}?next=%2Fredeem%2FCAMPAIGN%2F"' in body
    signup = anon_client.get(signup_url).content.decode()
    assert "next=%2Fredeem%2FCAMPAIGN%2F" in signup  # the sign-in link keeps it too

    done = anon_client.post(
        signup_url,
        {
            "email": "new@example.com",
            "password1": "a long pass phrase 42",
            "password2": "a long pass phrase 42",
            "next": "/redeem/CAMPAIGN/",
        },
        follow=True,
    )

    body = done.content.decode()
    assert done.redirect_chain[-1][0] == reverse("tokens:page") + "?code=CAMPAIGN#redeem"
    assert 'value="CAMPAIGN"' in body
    assert not VoucherRedemption.objects.exists()


def test_a_visitor_sees_the_same_page_for_a_code_that_does_not_exist(anon_client):
    VoucherFactory(code="REAL")
    real, fake = anon_client.get("/redeem/REAL/"), anon_client.get("/redeem/FAKE/")

    def card(response):
        body = response.content.decode()
        return body[body.index("<main") : body.index("</main>")].replace("REAL", "X")

    assert real.status_code == fake.status_code == 200
    assert card(real) == card(fake).replace("FAKE", "X")


def test_a_visitor_posting_the_form_is_sent_to_sign_in(anon_client):
    response = anon_client.post(REDEEM, {"code": "ANY"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("junk", ["abc%00def", "x" * 300, "%27%20or%201=1--", "%C3%BC" * 3])
def test_a_link_with_an_impossible_code_is_a_404(owner_client, anon_client, junk):
    for client in (owner_client, anon_client):
        assert client.get(f"/redeem/{junk}/").status_code == 404
