"""The ledger's sources: callers describe their own (a label, the page of one id) through
`tokens.sources.register`, so tokens names none of its callers' URLs."""

import pytest

from tokens import sources


@pytest.fixture
def registry():
    saved = dict(sources._registry)
    yield sources
    sources._registry.clear()
    sources._registry.update(saved)


def test_the_apps_register_their_own_sources_at_start_up():
    enhancement = sources.describe("enhancement")
    assert (enhancement.label, enhancement.url_name) == ("Enhancement job", "jobs:detail")
    assert enhancement.known_ids is not None  # check_ledger verifies its references
    assert sources.describe("voucher").label == "Voucher"
    assert sources.describe("stripe").label == "Payment"


def test_tokens_own_sources_need_no_caller():
    assert sources.describe("regeneration").label == "Regeneration"
    signup = sources.describe("signup")
    assert signup.label == "Welcome tokens" and not signup.show_reference


def test_an_unknown_source_reads_as_its_own_name():
    assert sources.describe("gift_card") == sources.Source("Gift card")
    assert sources.describe(None).label == "—"


def test_registering_again_replaces(registry):
    registry.register("gift_card", label="Gift card", url_name="home")
    registry.register("gift_card", label="Gift", show_reference=False)

    assert registry.describe("gift_card") == sources.Source("Gift", None, show_reference=False)
