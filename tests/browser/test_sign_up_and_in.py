"""A person signs up, confirms the email, signs out and back in, in a real browser."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "erin@example.com"
PASSWORD = "a-good-long-passphrase-7"


def test_sign_up_confirm_sign_out_and_sign_in(page, live_server, mailoutbox, screenshots, settings):
    settings.SITE_URL = live_server.url  # the emails' links start with SITE_URL
    call_command("seed")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("sharper and cleaner")
    expect(page.get_by_text("£2.99")).to_be_visible()
    page.screenshot(path=screenshots / "home.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshots / "home-mobile.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Sign up from the header.
    page.get_by_role("banner").get_by_role("link", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    # Open the link from the email and confirm: that signs the new user in.
    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mailoutbox[0].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/images/$"))

    # Sign out through the account menu, opened with the keyboard.
    page.goto(live_server.url + "/")
    expect(page.locator("#balance-badge")).to_be_visible()
    menu = page.locator("details.account-menu .menu-panel")
    expect(menu).to_be_hidden()
    page.locator("details.account-menu > summary").focus()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    expect(menu.get_by_text(EMAIL)).to_be_visible()
    page.screenshot(path=screenshots / "account-menu.png")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(live_server.url + "/")
    header = page.get_by_role("banner")
    expect(header.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_text("You have signed out.")).to_be_visible()

    # Sign in again.
    header.get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    page.screenshot(path=screenshots / "login.png", full_page=True)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/images/$"))
    page.goto(live_server.url + "/")
    expect(page.locator("details.account-menu")).to_be_visible()


def test_a_wrong_password_is_explained(page, live_server):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("wrong-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not correct")
