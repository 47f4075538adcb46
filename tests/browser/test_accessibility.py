"""Every main page in real Chromium: nothing wider than a 390 px phone, and no serious or
critical violation found by axe-core (tests/browser/vendor/axe.min.js, from the npm registry).

axe is evaluated into each page by Playwright (`page.evaluate` is not subject to the page's
Content-Security-Policy, which refuses any injected <script>) and runs at a desktop and a phone
width. A page with a known violation that another part of the app must fix is a strict xfail
naming the rule: it turns into a failure (and the mark must go) once the page is fixed.

Also the site-wide keyboard rules: the account menu closes when focus leaves it and never covers
the control that has the focus, and radios and checkboxes show a focus ring of at least 3:1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.test_csp import scene  # noqa: F401 (the fixture: users, images and jobs)
from tests.factories import fund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
}"""


# (name, who, path); `path` may name the scene's objects. Who: visitor, member (Alice), staff.
PAGES = [
    ("home", "visitor", "/"),
    ("login", "visitor", "/accounts/login/"),
    ("signup", "visitor", "/accounts/signup/"),
    ("password-reset", "visitor", "/accounts/password/reset/"),
    ("password-reset-done", "visitor", "/accounts/password/reset/done/"),
    ("verification-sent", "visitor", "/accounts/confirm-email/"),
    ("pricing-visitor", "visitor", "/pricing/"),
    ("library", "member", "/images/"),
    ("upload", "member", "/images/upload/"),
    ("image", "member", "/images/{image}/"),
    ("job", "member", "/jobs/{done}/"),
    ("tokens", "member", "/tokens/"),
    ("tokens-newcomer", "newcomer", "/tokens/"),  # a history of grants only: nothing to click
    ("account", "member", "/account/"),
    ("email", "member", "/accounts/email/"),
    ("password-change", "member", "/accounts/password/change/"),
    ("connections", "member", "/accounts/3rdparty/"),
    ("logout", "member", "/accounts/logout/"),
    ("pricing", "member", "/pricing/"),
    ("billing", "member", "/billing/"),
    ("admin", "staff", "/admin/"),
]

# Known violations in pages this part of the app does not own, each a strict xfail that names
# the rule and the element: {"image": pytest.mark.xfail(strict=True, reason="axe <rule> at
# <selector>")}. None at the moment.
KNOWN: dict[str, pytest.MarkDecorator] = {}


def _open(page, live_server, browser_login, scene, who, path):  # noqa: F811
    if who == "newcomer":
        bob = get_user_model().objects.get(email="bob@example.com")
        fund(bob, 10)
        browser_login(bob)
    elif who == "member":
        browser_login(scene["alice"])
    elif who == "staff":
        browser_login(scene["staff"])
    path = path.format(image=scene["image"].pk, done=scene["done"].pk)
    response = page.goto(live_server.url + path)
    assert response.status == 200, path
    return path


def _params():
    for name, who, path in PAGES:
        yield pytest.param(who, path, id=name, marks=KNOWN.get(name, ()))


@pytest.mark.parametrize(("who", "path"), list(_params()))
def test_no_serious_or_critical_axe_violation(page, live_server, browser_login, scene, who, path):  # noqa: F811
    path = _open(page, live_server, browser_login, scene, who, path)
    page.evaluate(AXE)
    found = []
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        for violation in page.evaluate(RUN_AXE):
            found.append(f"{path} at {size['width']} px: {violation}")
    assert found == []


def test_axe_reports_what_it_should(page, live_server):
    """The detector itself: a button without a name and a control that overflows the phone's
    width, added by a script, are reported by the same checks as above."""
    page.goto(live_server.url + "/")
    page.evaluate(AXE)
    page.evaluate(
        """() => { const b = document.createElement("button"); b.className = "probe";
                   document.querySelector("main").appendChild(b); }"""
    )
    found = page.evaluate(RUN_AXE)
    assert any(v["id"] == "button-name" and v["impact"] == "critical" for v in found), found
    page.set_viewport_size(PHONE)
    page.evaluate(
        """() => { const d = document.createElement("div"); d.textContent = "x".repeat(200);
                   document.querySelector("main").appendChild(d); }"""
    )
    assert page.evaluate(
        "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


@pytest.mark.parametrize(("who", "path"), [(who, path) for _name, who, path in PAGES])
def test_fits_a_phone(page, live_server, browser_login, scene, who, path):  # noqa: F811
    path = _open(page, live_server, browser_login, scene, who, path)
    page.set_viewport_size(PHONE)
    page.reload()
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    wide = page.evaluate(
        """() => Array.from(document.querySelectorAll("body *"))
          .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .filter(el => !el.closest(".table-wrap, [data-scrolls]"))
          .slice(0, 5).map(el => el.tagName.toLowerCase() + "." + el.className)"""
    )
    assert widths[0] <= widths[1], f"{path}: {widths[0]} px wide in {widths[1]} ({wide})"


# --- the keyboard ---------------------------------------------------------------------------
def _contrast(a: str, b: str) -> float:
    def luminance(rgb: str) -> float:
        values = [int(part) / 255 for part in rgb[rgb.index("(") + 1 : -1].split(",")[:3]]
        linear = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in values]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_account_menu_closes_when_focus_leaves_it(page, browser_login, scene, live_server):  # noqa: F811
    browser_login(scene["alice"])
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.goto(live_server.url + "/accounts/email/")
        summary = page.locator("details.account-menu > summary")
        panel = page.locator("details.account-menu .menu-panel")
        summary.focus()
        page.keyboard.press("Enter")
        expect(panel).to_be_visible()
        # Tab through the menu to its last control (Sign out), then once more: out of the menu.
        for _ in range(20):
            page.keyboard.press("Tab")
            if not page.evaluate("() => !!document.activeElement.closest('.account-menu')"):
                break
        expect(panel).to_be_hidden()
        # The control that has the focus is not under anything.
        covered = page.evaluate(
            """() => {
              const el = document.activeElement, box = el.getBoundingClientRect();
              const top = document.elementFromPoint(box.left + box.width / 2,
                                                    box.top + box.height / 2);
              return top && !(el === top || el.contains(top) || top.contains(el));
            }"""
        )
        assert not covered
        # Shift+Tab goes back into the closed menu's button, not into a hidden panel.
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("() => document.activeElement.tagName") == "SUMMARY"


def test_the_account_button_is_named_by_its_visible_text(page, browser_login, scene, live_server):  # noqa: F811
    browser_login(scene["alice"])
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.goto(live_server.url + "/images/")
        summary = page.locator("details.account-menu > summary")
        # The avatar's letter is hidden from screen readers; "Account" is the name, seen on a
        # desktop and only visually hidden on a phone (never display:none, or the name is gone).
        expect(summary).to_have_accessible_name("Account")
        assert summary.get_attribute("aria-label") is None
        label = page.locator(".account-menu-label")
        if size is DESKTOP:
            expect(label).to_be_visible()


def test_radios_and_checkboxes_have_a_visible_focus_ring(page, browser_login, scene, live_server):  # noqa: F811
    browser_login(scene["alice"])
    page.goto(live_server.url + "/accounts/email/")
    radio = page.locator("input[type=radio]").first
    # Reached by the keyboard: the focus ring is for keyboard focus (:focus-visible).
    page.locator("h1").click()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.type === 'radio'"):
            break
    style = radio.evaluate(
        """el => { const s = getComputedStyle(el);
                   const bg = getComputedStyle(el.closest('.card')).backgroundColor;
                   return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor, bg]; }"""
    )
    outline_style, width, color, background = style
    assert outline_style == "solid" and width >= 2, style
    assert _contrast(color, background) >= 3, style

    page.goto(live_server.url + "/images/")
    checkbox = page.locator("input[type=checkbox]").first
    checkbox.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Space")
    style = checkbox.evaluate(
        "el => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineColor]; }"
    )
    assert style[0] == "solid" and _contrast(style[1], "rgb(255, 255, 255)") >= 3, style
