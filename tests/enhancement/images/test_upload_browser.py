"""In a real browser: pick several files (one of them not an image), watch the upload go
through the page's JavaScript, read a verdict per file, and find the good ones in the library."""

import pytest
from playwright.sync_api import expect

from enhancement.models import EnhancedImage
from tests import images

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in_page(browser_login, user):
    return browser_login(user)


def test_upload_several_files_with_one_bad(signed_in_page, live_server, user, screenshots):
    page = signed_in_page
    page.goto(f"{live_server.url}/images/upload/")
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Images").set_input_files(
        [
            {
                "name": "Harbour.jpg",
                "mimeType": "image/jpeg",
                "buffer": images.jpeg_bytes(640, 480),
            },
            {"name": "Logo.png", "mimeType": "image/png", "buffer": images.png_bytes(300, 300)},
            {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"just some text, no image"},
        ]
    )
    expect(page.locator("[data-file-list] li")).to_have_count(3)  # the chosen files are listed
    page.get_by_role("button", name="Upload").click()

    results = page.locator("#upload-results")
    expect(results.get_by_role("heading", name="Uploaded 2 of 3 files")).to_be_visible()
    expect(results.get_by_text("notes.jpg")).to_be_visible()
    expect(results.locator(".rejection-message")).to_have_count(1)
    # The results came through the page's script (XMLHttpRequest with progress), no reload.
    assert page.evaluate("window.notReloaded") is True
    # Each uploaded file shows its thumbnail, served from the signed media URL.
    thumbs = results.locator("img.upload-result-thumb")
    expect(thumbs).to_have_count(2)
    page.wait_for_function(  # a function, not an expression: the CSP refuses eval when it polls
        "() => Array.from(document.querySelectorAll('img.upload-result-thumb'))"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    page.screenshot(path=screenshots / "upload-results.png", full_page=True)

    assert sorted(EnhancedImage.objects.filter(user=user).values_list("name", flat=True)) == [
        "Harbour",
        "Logo",
    ]
    page.get_by_role("link", name="See them in My images").click()
    expect(page.locator(".image-card-name")).to_have_count(2)
    page.screenshot(path=screenshots / "library.png", full_page=True)
