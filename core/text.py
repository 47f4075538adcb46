"""Small formatting helpers shared by pages and messages."""


def format_bytes(n: int) -> str:
    """A size as people read it: "50 MB", "1.5 KB", "12 bytes" (binary units)."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} bytes"
