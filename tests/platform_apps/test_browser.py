"""Platform apps in real Chromium: an owner builds and publishes an app, another user finds it in
the directory and forks it. No CSP violation, console error or script error on the way; each
main page saved at desktop and phone widths."""

import pytest
from playwright.sync_api import expect

from platform_apps.models import App

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.effectiveDirective + " refused " + (e.blockedURI || "?"));
});
"""


@pytest.fixture
def problems(page):
    found = []
    page.add_init_script(COLLECT_VIOLATIONS)
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    page.on(
        "console",
        lambda m: (
            found.append(f"console: {m.text}")
            if m.type == "error" and "status of 400" not in m.text  # a refused form, on purpose
            else None
        ),
    )

    def check():
        found.extend(page.evaluate("() => window.__cspViolations || []"))
        return found

    return check


def shoot(page, screenshots, name):
    for width, tag in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=screenshots / f"apps-{name}-{tag}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_build_publish_find_and_fork_an_app(
    browser_login, live_server, user, other_user, problems, screenshots, browser
):
    page = browser_login(user)
    page.goto(f"{live_server.url}/apps/")
    expect(page.get_by_role("heading", name="No apps yet")).to_be_visible()
    page.get_by_role("link", name="Create your first app").click()

    page.get_by_label("Name").fill("Recipe box")
    page.get_by_label("Description").fill("Family recipes in one place.")
    page.get_by_label("Custom domain").fill("https://recipes.example.com")
    page.get_by_role("button", name="Create app").click()
    expect(page.get_by_text("without http:// or https://")).to_be_visible()
    page.get_by_label("Custom domain").fill("Recipes.Bücher.Example")
    page.get_by_role("button", name="Create app").click()
    expect(page.get_by_role("heading", name="Recipe box")).to_be_visible()
    app = App.objects.get(user=user)
    assert app.domain == "recipes.xn--bcher-kva.example"

    # requirements: add two, reword one (a new version, the old text kept)
    for text, priority in (("Import from a URL", "High"), ("Scale by servings", "Critical")):
        page.get_by_role("textbox", name="Requirement").fill(text)
        page.locator("#add-requirement").get_by_label("Priority").select_option(label=priority)
        page.get_by_role("button", name="Add", exact=True).click()
    cards = page.locator(".requirement-text")
    expect(cards).to_have_text(["Scale by servings", "Import from a URL"])
    page.locator(".requirement", has_text="Import from a URL").get_by_role(
        "link", name="Edit text"
    ).click()
    page.get_by_role("textbox", name="Requirement").fill("Import from any recipe URL")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    page.get_by_text("Earlier version (1)").click()
    expect(page.locator(".history-text")).to_have_text("Import from a URL")

    # pricing: the form shows only the fields a type takes
    page.get_by_role("link", name="Add a pricing model").click()
    price_row = page.locator(".form-row", has=page.get_by_label("Price (GBP)"))
    interval_row = page.locator(".form-row", has=page.get_by_label("Billing interval"))
    expect(price_row).to_be_hidden()  # Free
    page.get_by_label("Model").select_option("SUBSCRIPTION")
    expect(price_row).to_be_visible()
    expect(interval_row).to_be_visible()
    page.get_by_label("Price (GBP)").fill("2.50")
    page.get_by_label("Billing interval").select_option("MONTHLY")
    page.get_by_label("Features").fill("Meal plans\nShopping lists")
    shoot(page, screenshots, "pricing-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("£2.50 a month")).to_be_visible()

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("is active: everyone can find it now.")).to_be_visible()
    shoot(page, screenshots, "app-owner")
    page.goto(f"{live_server.url}/apps/")
    shoot(page, screenshots, "my-apps")

    # another user finds it and forks it
    bob = browser.new_context(base_url=live_server.url)
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(other_user)
    bob.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    bob_page = bob.new_page()
    bob_page.goto(f"{live_server.url}/apps/directory/")
    bob_page.get_by_role("searchbox").fill("recipe")
    bob_page.get_by_role("button", name="Search").click()
    shoot(bob_page, screenshots, "directory")
    bob_page.get_by_role("link", name="Recipe box").click()
    shoot(bob_page, screenshots, "app-public")
    bob_page.get_by_role("link", name="Fork this app").click()
    bob_page.get_by_label("Name of your copy").fill("Bob's recipes")
    bob_page.get_by_role("button", name="Fork the app").click()
    expect(bob_page.get_by_role("heading", name="Bob's recipes")).to_be_visible()
    expect(bob_page.get_by_text("Forked from")).to_contain_text("Recipe box")
    expect(bob_page.locator(".requirement-text")).to_have_text(
        ["Scale by servings", "Import from any recipe URL"]
    )
    fork = App.objects.get(user=other_user)
    assert (fork.forked_from_id, fork.status, fork.domain) == (app.pk, "DRAFT", None)
    bob.close()

    assert problems() == []
