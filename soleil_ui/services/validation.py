"""Input cleaning shared by every service: one place decides what a valid name or note is."""

from __future__ import annotations

import unicodedata

from ..errors import InvalidInput


def clean_text(
    value: str | None, label: str, *, max_length: int, required: bool = True, multiline: bool = False
) -> str:
    """Trim, normalise and bound a person's text; raise InvalidInput with a message naming the field.

    Markup is kept as text (the UI escapes on output), so `<script>` is stored harmlessly as typed.
    """
    text = unicodedata.normalize("NFC", value or "")
    allowed = {"\n", "\t"} if multiline else set()
    text = "".join(ch for ch in text if ch in allowed or unicodedata.category(ch)[0] != "C")
    text = text.strip() if multiline else " ".join(text.split())
    if required and not text:
        raise InvalidInput(f"{label} can't be empty.")
    if len(text) > max_length:
        raise InvalidInput(f"{label} is too long ({len(text)} characters; at most {max_length}).")
    return text
