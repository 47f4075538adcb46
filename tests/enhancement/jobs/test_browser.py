"""In a real browser: order an enhancement, watch it finish without reloading the page, compare
before and after with the keyboard, and cancel a waiting job."""

from __future__ import annotations

import re

import pytest

from enhancement import tasks
from enhancement.models import ImageEnhancementJob, JobStatus
from tests.factories import stored_image
from tokens import services as tokens

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def signed_in_page(browser_login, funded_user):
    return browser_login(funded_user)


def test_order_watch_it_finish_and_compare(signed_in_page, live_server, funded_user, screenshots):
    page = signed_in_page
    image = stored_image(funded_user, width=640, height=480, name="Harbour.jpg")

    page.goto(f"{live_server.url}/images/{image.pk}/")
    page.get_by_text("2048 × 1536 px").click()  # the 2K tier's card
    page.get_by_role("button", name="Enhance").click()

    expect(page.get_by_text("Your 2K enhancement is on its way")).to_be_visible()
    job = ImageEnhancementJob.objects.get()
    card = page.locator(f"#job-{job.pk}")
    expect(card.get_by_text("Waiting in the queue")).to_be_visible()
    expect(page.get_by_text("Your balance: 95 tokens")).to_be_visible()
    page.evaluate("window.notReloaded = true")

    tasks.run_enhancement_job(job.pk)  # a worker picks it up

    slider = card.get_by_role("slider")
    expect(slider).to_be_visible(timeout=10_000)  # htmx polling swapped the card in
    assert page.evaluate("window.notReloaded") is True
    expect(card.get_by_text("2048 × 1536 px")).to_be_visible()
    expect(card.get_by_role("link", name="Download JPG")).to_be_visible()

    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    compare = card.locator("[data-compare]")
    assert compare.evaluate("el => el.style.getPropertyValue('--pos')") == "60%"

    # On the picture itself: a click puts the divider there, a drag takes it along.
    stage = card.locator(".job-compare-stage")
    box = stage.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2)
    assert compare.evaluate("el => el.style.getPropertyValue('--pos')") == "25%"
    assert slider.input_value() == "25"  # the keyboard's control follows
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    assert compare.evaluate("el => el.style.getPropertyValue('--pos')") == "80%"
    handle = card.locator(".job-compare-handle")
    expect(handle).to_be_visible()
    colour = handle.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(79, 70, 229)"  # the theme's primary, not the browser's blue
    page.screenshot(path=screenshots / "image-enhanced.png", full_page=True)

    with page.expect_download() as download:
        card.get_by_label("Convert to").select_option("png")
        card.get_by_role("button", name="Download converted").click()
    assert download.value.suggested_filename == "Harbour-enhanced-2K.png"


def test_cancel_a_waiting_job(signed_in_page, live_server, funded_user):
    page = signed_in_page
    image = stored_image(funded_user, width=640, height=480)
    page.goto(f"{live_server.url}/images/{image.pk}/")
    page.get_by_text("4096 × 3072 px").click()
    page.get_by_role("button", name="Enhance").click()
    expect(page.get_by_text("Your balance: 90 tokens")).to_be_visible()

    page.get_by_role("button", name=re.compile("Cancel and get 10 tokens back")).click()

    message = "Cancelled. Your 10 tokens were returned to your balance."
    expect(page.get_by_role("status").get_by_text(message)).to_be_visible()
    card = page.locator("#jobs-panel .job-card").first
    expect(card.locator(".job-status")).to_have_text(message)
    expect(card.locator(".badge")).to_have_text("Cancelled")  # neutral, not a failure
    expect(card.locator(".badge-danger")).to_have_count(0)
    assert ImageEnhancementJob.objects.get().status == JobStatus.REFUNDED
    assert tokens.get_balance(funded_user) == 100


def test_batch_from_the_library(signed_in_page, live_server, funded_user, screenshots):
    page = signed_in_page
    names = [f"Batch {n}.jpg" for n in range(3)]
    for name in names:
        stored_image(funded_user, width=320, height=240, name=name)

    page.goto(f"{live_server.url}/images/")
    for name in names[:2]:
        page.get_by_label(f"Select {name.removesuffix('.jpg')}").check()
    page.get_by_label("Tier", exact=True).select_option("TIER_2K")
    page.get_by_role("button", name="Review order").click()

    expect(page.get_by_role("heading", name="Enhance 2 images at 2K")).to_be_visible()
    page.screenshot(path=screenshots / "batch-confirm.png", full_page=True)
    page.get_by_role("button", name="Spend 10 tokens and enhance").click()

    expect(page.get_by_text("2 2K enhancements ordered for 10 tokens.")).to_be_visible()
    assert ImageEnhancementJob.objects.filter(status=JobStatus.PENDING).count() == 2
    assert tokens.get_balance(funded_user) == 90


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)], ids=["desktop", "phone"])
def test_enhance_is_the_first_thing_beside_or_below_the_picture(
    signed_in_page, live_server, funded_user, width, height
):
    page = signed_in_page
    page.set_viewport_size({"width": width, "height": height})
    image = stored_image(funded_user, width=1200, height=800, name="Harbour.jpg")
    page.goto(f"{live_server.url}/images/{image.pk}/")

    button = page.get_by_role("button", name="Enhance", exact=True)
    box = button.bounding_box()
    assert box["y"] + box["height"] <= height, f"Enhance is {box['y']:.0f} px down: below the fold"
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    publish = page.get_by_role("button", name="Publish to the gallery")
    assert "btn-secondary" in publish.get_attribute("class")


def test_an_empty_batch_says_so_in_place(signed_in_page, live_server, funded_user):
    page = signed_in_page
    stored_image(funded_user, name="One.jpg")
    page.goto(f"{live_server.url}/images/")
    page.get_by_role("button", name="Review order").click()
    expect(page.get_by_text("Tick at least one image below first.")).to_be_visible()
    assert page.url.endswith("/images/")  # no error page
    page.get_by_role("button", name="Select all on this page").click()
    page.get_by_role("button", name="Review order").click()
    expect(page.get_by_role("heading", name="Enhance 1 image at 1K")).to_be_visible()


def test_tiers_the_balance_cannot_pay_for_are_disabled_in_the_browser(
    browser_login, live_server, user
):
    from tests.factories import fund

    fund(user, 3)
    page = browser_login(user)
    image = stored_image(user, width=640, height=480, name="Dim.jpg")
    page.goto(f"{live_server.url}/images/{image.pk}/")

    expect(page.locator("#tier-TIER_1K")).to_be_enabled()
    expect(page.locator("#tier-TIER_1K")).to_be_checked()
    for tier, needed in (("TIER_2K", 2), ("TIER_4K", 7)):
        expect(page.locator(f"#tier-{tier}")).to_be_disabled()
        expect(page.get_by_text(f"{needed} more tokens needed")).to_be_visible()
    page.get_by_text("4096 × 3072 px").click(force=True)  # a click on a disabled tier...
    expect(page.locator("#tier-TIER_1K")).to_be_checked()  # ...changes nothing
    expect(page.get_by_role("link", name="Get more tokens")).to_have_attribute("href", "/pricing/")


def test_the_library_badge_follows_a_job_live(signed_in_page, live_server, funded_user):
    page = signed_in_page
    image = stored_image(funded_user, name="Live.jpg")
    from enhancement.jobs import ordering

    job = ordering.order_enhancement(
        user=funded_user, image=image, tier="TIER_1K", request_key=None
    )
    page.goto(f"{live_server.url}/images/")
    badge = page.locator(f"#badge-{image.pk}")
    expect(badge).to_contain_text("Enhancing")
    page.evaluate("window.notReloaded = true")

    tasks.run_enhancement_job(job.pk)  # a worker finishes it

    expect(badge).to_contain_text("Enhanced 1K", timeout=10_000)  # htmx polling, no reload
    assert page.evaluate("window.notReloaded") is True
