"""Injectable upstream failures, scheduled deterministically.

A fault is chosen per feed request, by request number (1-based, counting every request to the
feed path), by probability (drawn from a generator seeded by the server's seed, so a run
replays exactly with a single client), or for the next K requests after it is added.

Except for the duplicate kinds, a faulted request delivers nothing, so a client that keeps its
cursor and retries loses nothing.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

STATUS_FAULTS: dict[str, int] = {
    code: int(code)
    for code in ("401", "403", "404", "429", "500", "502", "503", "520", "521", "522", "523", "524")
}
FAULT_KINDS: dict[str, str] = {
    **{code: f"HTTP {code} response" for code in STATUS_FAULTS},
    "waited_too_long": 'HTTP 400 {"status": "Waited too long...", "nextUrl": <same cursor>, "events": []}',
    "slow_body": "normal response whose body trickles out over `seconds` (default 3)",
    "duplicate": "re-sends already delivered events in front of the new ones",
    "stale_next": "normal response whose nextUrl does not advance (the next poll repeats it)",
    "truncated": "normal headers, JSON body cut in half",
    "endless_body": "body that never completes; trickles bytes for `seconds` (default 100)",
    "foreign_next": "no events and a nextUrl on a foreign host",
    "disconnect": "connection closed without any response",
}
CLOUDFLARE_TITLES = {
    502: "Bad gateway",
    503: "Service unavailable",
    520: "Web server is returning an unknown error",
    521: "Web server is down",
    522: "Connection timed out",
    523: "Origin is unreachable",
    524: "A timeout occurred",
}
DEFAULT_PROBABILITY = 0.1


@dataclass(frozen=True)
class Fault:
    """One fault kind and when it fires; with no schedule given it fires with p=0.1."""

    kind: str
    at: tuple[int, ...] = ()
    p: float = 0.0
    next: int = 0
    seconds: float | None = None
    retry_after: int = 1

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(FAULT_KINDS)}")
        object.__setattr__(self, "at", tuple(int(n) for n in self.at))
        if not 0.0 <= self.p <= 1.0:
            raise ValueError("fault probability must be within 0..1")
        if not self.at and not self.p and not self.next:
            object.__setattr__(self, "p", DEFAULT_PROBABILITY)

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """`KIND[:p=0.1|:at=3,7|:next=2][:seconds=S][:retry_after=N]`, as given on the command line."""
        kind, *options = spec.strip().split(":")
        values: dict[str, object] = {}
        for option in options:
            key, sep, raw = option.partition("=")
            key = key.strip().replace("-", "_")
            if not sep:
                raise ValueError(f"fault option {option!r} must look like key=value")
            if key == "at":
                values["at"] = tuple(int(n) for n in raw.split(",") if n.strip())
            elif key == "p":
                values["p"] = float(raw)
            elif key in ("next", "retry_after"):
                values[key] = int(raw)
            elif key == "seconds":
                values["seconds"] = float(raw)
            else:
                raise ValueError(f"unknown fault option {key!r}")
        return cls(kind.strip().lower(), **values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class FaultRecord:
    request: int
    kind: str
    cursor: str | None  # the `i` the request carried; never the token


@dataclass
class FaultPlan:
    seed: int = 0
    log: list[FaultRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._entries: list[list[object]] = []  # [fault, remaining `next` count]
        self._lock = threading.Lock()

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self._entries.extend([f, f.next] for f in faults)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def pick(self, request: int, cursor: str | None) -> Fault | None:
        with self._lock:
            chosen: Fault | None = None
            for entry in self._entries:
                fault, remaining = entry
                assert isinstance(fault, Fault) and isinstance(remaining, int)
                # Draw for every probabilistic fault on every request, so the random stream
                # (and therefore the run) does not depend on which other faults fired.
                hit = fault.p > 0 and self._rng.random() < fault.p
                if chosen is not None:
                    continue
                if remaining > 0:
                    entry[1] = remaining - 1
                    chosen = fault
                elif request in fault.at or hit:
                    chosen = fault
            if chosen is not None:
                self.log.append(FaultRecord(request, chosen.kind, cursor))
            return chosen


def cloudflare_html(status: int, host: str) -> bytes:
    """An error page in the shape Cloudflare serves in front of the real API."""
    title = CLOUDFLARE_TITLES.get(status, "Error")
    return (
        "<!DOCTYPE html>\n<html lang=\"en-US\"><head><title>"
        f"{host} | {status}: {title}</title></head><body>"
        f"<div id=\"cf-error-details\"><h1>{title}</h1><span>Error code {status}</span>"
        "<p>Visit cloudflare.com for more information.</p>"
        f"<span>Cloudflare Ray ID: 8f{status:04d}c0ffee</span></div></body></html>\n"
    ).encode()
