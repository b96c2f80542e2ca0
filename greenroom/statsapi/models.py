"""Tables of Stats API samples."""

from __future__ import annotations
