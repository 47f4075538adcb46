"""A person downloads their data in a real browser: "Prepare my data" on the account page, the
card says it is ready, the zip downloads and opens; the card while it is being prepared; an
expired link's page. At a desktop and a phone width."""

from __future__ import annotations

import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.exports import services
from accounts.models import DataExport
from tests.browser.test_accessibility import AXE, RUN_AXE
from tests.factories import stored_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def serious_violations(page) -> list:
    page.evaluate(AXE)
    return page.evaluate(RUN_AXE)


def no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_prepare_and_download_my_data(browser_login, live_server, user, screenshots, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)  # the worker's build runs in the request
    stored_image(user, name="Lake.jpg")
    page = browser_login(user)

    page.goto(live_server.url + "/account/")
    card = page.locator("#data-export")
    expect(card.get_by_role("heading", name="Download my data")).to_be_visible()
    card.get_by_role("button", name="Prepare my data").click()

    expect(card.get_by_text("Your data is ready")).to_be_visible()
    assert serious_violations(page) == []
    card.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "data-export-ready.png", full_page=True)
    with page.expect_download() as download:
        card.get_by_role("link", name="Download zip").click()
    assert download.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.value.path()) as archive:
        assert archive.testzip() is None
        assert any("/originals/Lake_" in name for name in archive.namelist())

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/account/")
    expect(card.get_by_role("link", name="Download zip")).to_be_visible()
    assert no_sideways_scroll(page)
    page.screenshot(path=screenshots / "data-export-ready-mobile.png", full_page=True)

    # The link once the export has expired: a page that says so and offers a new one.
    export = DataExport.objects.get(user=user)
    link = services.download_path(export)
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    response = page.goto(live_server.url + link)
    assert response.status == 410
    expect(page.get_by_role("heading", name="This download has expired")).to_be_visible()
    expect(page.get_by_role("button", name="Prepare a new export")).to_be_visible()
    assert no_sideways_scroll(page)
    assert serious_violations(page) == []
    page.screenshot(path=screenshots / "data-export-expired-mobile.png", full_page=True)


def test_the_card_polls_while_the_export_is_prepared(browser_login, live_server, user):
    services.request_export(user=user)  # queued: no cluster runs in this test
    page = browser_login(user)
    polls = []
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith("/status/") else None)

    page.goto(live_server.url + "/account/")
    expect(page.locator("#data-export").get_by_text("Preparing your data")).to_be_visible()
    expect(page.locator("#data-export").get_by_role("button")).to_have_count(0)
    assert serious_violations(page) == []
    page.wait_for_timeout(3500)
    assert polls, "the card did not ask for its state again"
