"""The one redaction point: every text the tool keeps or shows that may hold a secret passes here.

Build logs in ``.dlc/logs/`` go through :func:`redact` line by line before they are written
or printed. (This is the interface only; the reliability work fills in what it removes.)
"""

from __future__ import annotations


def redact(text: str) -> str:
    """``text`` with every secret the tool knows of replaced; the one redaction point."""
    return text
