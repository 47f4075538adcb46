import pytest

from core.text import clean_line, clean_text, format_bytes, times


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (12, "12 bytes"),
        (1536, "1.5 KB"),
        (50 * 1024**2, "50 MB"),
        (53_548_000, "51.1 MB"),  # once "51.0664 MB"
        (3 * 1024**3, "3 GB"),
    ],
)
def test_format_bytes(n, text):
    assert format_bytes(n) == text


def test_times():
    assert [times(n) for n in (1, 2, 3)] == ["once", "twice", "3 times"]


def test_clean_line_and_text():
    assert clean_line(" evil\r\nX-Injected:\tyes\x00 ") == "evil X-Injected: yes"
    assert clean_line("a\u202eb\u200bc") == "a b c"
    assert clean_text("one\r\ntwo\rthree\x07\n\tfour  ") == "one\ntwo\nthree\n\tfour"
