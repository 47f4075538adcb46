"""Small formatting helpers shared by pages and messages."""


def format_bytes(n: int) -> str:
    """A size as people read it: "50 MB", "1.5 KB", "12 bytes" (binary units)."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} bytes"


def join_or(words: list[str]) -> str:
    """Choices as a sentence names them: "1K, 2K or 4K" (one word alone as it is)."""
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} or {words[-1]}"
