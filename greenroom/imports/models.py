"""Tables of token-history imports."""

from __future__ import annotations
