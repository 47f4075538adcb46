"""Small formatting helpers shared by pages and messages."""

import unicodedata


def format_bytes(n: int) -> str:
    """A size as people read it: "50 MB", "51.1 MB", "1.5 KB", "12 bytes" (binary units, at
    most one decimal: never "51.0664 MB")."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{round(n / size, 1):g} {unit}"
    return f"{n} bytes"


def join_or(words: list[str]) -> str:
    """Choices as a sentence names them: "1K, 2K or 4K" (one word alone as it is)."""
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} or {words[-1]}"


def plural(count: int, word: str) -> str:
    """A count with its word: "1 photo", "3 photos" (words whose plural adds an "s")."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def times(n: int) -> str:
    """How often, as a sentence says it: "once", "twice", "3 times"."""
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


# --- text that people type ----------------------------------------------------------------------
# Control and format characters (Unicode category C: C0/C1 controls such as CR, LF, NUL and ESC,
# zero-width and bidirectional overrides, unassigned and private-use code points) never belong in
# a name: they break headers (a CR LF in a download's file name), hide text or reorder it.
_KEPT_IN_TEXT = {"\n", "\t"}


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "C"


def clean_line(value: str) -> str:
    """One line of text as we store a name: every run of whitespace or control characters
    becomes one space, the ends are trimmed. `"evil\\r\\nX-Injected: yes"` -> `"evil
    X-Injected: yes"`."""
    value = unicodedata.normalize("NFC", value or "")
    spaced = "".join(" " if (_is_control(ch) or ch.isspace()) else ch for ch in value)
    return " ".join(spaced.split())


def clean_text(value: str) -> str:
    """Several lines (a description): line breaks (any of CR LF, CR, LF) and tabs are kept as
    LF and tab, every other control character goes, trailing spaces on lines and the ends are
    trimmed."""
    value = unicodedata.normalize("NFC", value or "").replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(ch for ch in value if ch in _KEPT_IN_TEXT or not _is_control(ch))
    return "\n".join(line.rstrip() for line in kept.split("\n")).strip()


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    allowed = _KEPT_IN_TEXT | {"\r"} if multiline else set()
    return any(_is_control(ch) and ch not in allowed for ch in value or "")
