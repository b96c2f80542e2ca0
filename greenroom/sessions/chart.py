"""The session timeline as a small server-rendered SVG (no script, no third-party code).

Viewers are a blue line, tokens gold bars, chat messages a grey line; every bucket carries a
<title> with its numbers so hovering (or a screen reader) gives them as text. Viewers sampled from
the Stats API (when set) are a dark blue dotted line with a titled point per sample.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

WIDTH, HEIGHT, PAD_L, PAD_B, PAD_T = 900, 220, 36, 24, 10


def _scale(value: float, top: float) -> float:
    plot = HEIGHT - PAD_B - PAD_T
    return HEIGHT - PAD_B - (value / top * plot if top > 0 else 0)


def timeline_svg(timeline: list[dict[str, Any]], subjects: list[dict[str, Any]], tz: str,
                 sampled: list[dict[str, Any]] | None = None) -> str:
    """``sampled``: viewers sampled from the Stats API (``{"at": datetime, "viewers": int}``), drawn
    as a second, dotted viewer line with a point and a hover text per sample."""
    if not timeline:
        return ""
    zone = ZoneInfo(tz)
    n = len(timeline)
    step = (WIDTH - PAD_L) / n
    sampled = sampled or []
    top_v = max(max(b["viewers"] for b in timeline), max(b["messages"] for b in timeline),
                max((p["viewers"] for p in sampled), default=0), 1)
    top_t = max(max(b["tokens"] for b in timeline), 1)
    parts = [f'<svg class="timeline-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="Timeline in 5-minute buckets: viewers, messages and tokens'
             f'{", and viewers sampled from the Stats API" if sampled else ""}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    parts.append(f'<line x1="{PAD_L}" y1="{HEIGHT - PAD_B}" x2="{WIDTH}" y2="{HEIGHT - PAD_B}" stroke="#ccc"/>')
    parts.append(f'<text x="2" y="{PAD_T + 8}" font-size="10" fill="#666">{top_v}</text>')
    viewers, messages = [], []
    for i, b in enumerate(timeline):
        x = PAD_L + i * step
        local = datetime.fromisoformat(b["t"]).astimezone(zone).strftime("%H:%M")
        h = (HEIGHT - PAD_B - PAD_T) * b["tokens"] / top_t
        title = (f'{local}: {b["viewers"]} viewers, {b["messages"]} messages, {b["chatters"]} chatters, '
                 f'{b["tokens"]} tokens')
        parts.append(f'<g class="bucket"><title>{escape(title)}</title>'
                     f'<rect x="{x:.1f}" y="{PAD_T}" width="{max(step, 1):.1f}" height="{HEIGHT - PAD_B - PAD_T}" '
                     f'fill="transparent"/>'
                     f'<rect class="bar-tokens" x="{x + step * 0.15:.1f}" y="{HEIGHT - PAD_B - h:.1f}" '
                     f'width="{max(step * 0.7, 1):.1f}" height="{h:.1f}" fill="#d4a017" opacity="0.55"/></g>')
        cx = x + step / 2
        viewers.append(f"{cx:.1f},{_scale(b['viewers'], top_v):.1f}")
        messages.append(f"{cx:.1f},{_scale(b['messages'], top_v):.1f}")
        if i % max(1, n // 8) == 0:
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 6}" font-size="10" fill="#666">{local}</text>')
    parts.append(f'<polyline class="line-messages" points="{" ".join(messages)}" fill="none" stroke="#888" '
                 f'stroke-width="1.5" stroke-dasharray="4 3"/>')
    parts.append(f'<polyline class="line-viewers" points="{" ".join(viewers)}" fill="none" stroke="#2563eb" '
                 f'stroke-width="2"/>')
    first = datetime.fromisoformat(timeline[0]["t"])
    if sampled:
        points, dots = [], []
        for p in sampled:
            x = min(WIDTH, max(PAD_L, PAD_L + (p["at"] - first).total_seconds() / 300 * step))
            y = _scale(p["viewers"], top_v)
            points.append(f"{x:.1f},{y:.1f}")
            label = f'{p["at"].astimezone(zone):%H:%M}: {p["viewers"]} viewers sampled from the Stats API'
            dots.append(f'<g class="sample"><title>{escape(label)}</title>'
                        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1e3a8a"/></g>')
        parts.append(f'<polyline class="line-sampled" points="{" ".join(points)}" fill="none" stroke="#1e3a8a" '
                     f'stroke-width="1.5" stroke-dasharray="1 3" stroke-linecap="round"/>')
        parts.extend(dots)
    for s in subjects:
        at = datetime.fromisoformat(s["at"])
        x = PAD_L + (at - first).total_seconds() / 300 * step
        parts.append(f'<g class="subject-mark"><title>{escape("New subject: " + s["subject"])}</title>'
                     f'<line x1="{x:.1f}" y1="{PAD_T}" x2="{x:.1f}" y2="{HEIGHT - PAD_B}" stroke="#9333ea" '
                     f'stroke-dasharray="2 2"/></g>')
    parts.append("</svg>")
    return "".join(parts)
