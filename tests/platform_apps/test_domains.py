"""Custom domains: what people type becomes one stored form, or a message saying what to type."""

import pytest

from platform_apps.domains import InvalidDomain, display_domain, normalize_domain


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("app.example.com", "app.example.com"),
        ("  App.Example.COM  ", "app.example.com"),
        ("app.example.com.", "app.example.com"),  # the root's dot
        ("Bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("ＥＸＡＭＰＬＥ.com", "example.com"),  # full-width letters map to plain ones
        ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
        ("a-b.c-d.example.co.uk", "a-b.c-d.example.co.uk"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_a_host_name_is_stored_idna_encoded_and_lower_case(typed, stored):
    assert normalize_domain(typed) == stored


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("https://app.example.com", "without http:// or https://"),
        ("http://app.example.com/", "without http:// or https://"),
        ("//app.example.com", "without http:// or https://"),
        ("app.example.com/path", "without a path"),
        ("app.example.com?x=1", "without a path"),
        ("app.example.com#top", "without a path"),
        ("app.example.com:8080", "without a port"),
        ("[::1]", "without a port"),
        ("user@app.example.com", "without a user name"),
        ("app example.com", "no spaces"),
        ("app\x00.example.com", "not a valid domain name"),
        ("localhost", "with a dot"),
        ("192.168.0.1", "not an IP address"),
        ("under_score.example.com", "not a valid domain name"),
        ("-dash.example.com", "not a valid domain name"),
        ("dash-.example.com", "not a valid domain name"),
        ("two..dots.example.com", "not a valid domain name"),
        ("☃.example.com", "not a valid domain name"),
        ("xn--zz.example.com", "not a valid domain name"),  # a broken A-label
        ("a" * 64 + ".example.com", "not a valid domain name"),
        (".".join(["abcdefghij"] * 24) + ".com", "too long"),
        ("x" * 5000, "too long"),
    ],
)
def test_anything_else_is_refused_with_what_to_type(typed, says):
    with pytest.raises(InvalidDomain) as refused:
        normalize_domain(typed)
    assert says in refused.value.message


def test_a_stored_domain_reads_in_unicode():
    assert display_domain("xn--bcher-kva.example") == "bücher.example"
    assert display_domain("app.example.com") == "app.example.com"
    assert display_domain("xn--zz.example") == "xn--zz.example"  # unreadable: as stored
