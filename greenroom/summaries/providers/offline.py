"""The built-in summarizer: plain sentences written from the stats alone. Deterministic (the same
stats give the same text), needs no key and no network, and states only numbers from the stats."""

from __future__ import annotations

from greenroom.summaries.input import SummaryInput
from greenroom.summaries.providers.base import PROMPT_VERSION, SummaryText

MODEL = "rules-1"


def _n(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _duration(seconds: int) -> str:
    hours, rest = divmod(int(seconds) // 60, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def _plural(count: int, one: str, many: str) -> str:
    return f"{_n(count)} {one if count == 1 else many}"


class OfflineProvider:
    name = "offline"

    def summarize(self, data: SummaryInput) -> SummaryText:
        s = data.stats
        start, end = data.local(data.started_at), data.local(data.ended_at)
        when = f"{start:%Y-%m-%d}, {start:%H:%M}–{end:%H:%M}" if start and end else "end time Unknown"
        parts = [f"A broadcast of {_duration(s['duration_seconds'])} ({when} {data.timezone})."]
        if s["tokens"]:
            money = f"It earned {_n(s['tokens'])} tokens in total"
            if s["media_tokens"]:
                money += f" ({_n(s['tip_tokens'])} from tips, {_n(s['media_tokens'])} from media)"
            money += f", from {_plural(s['tip_count'], 'tip', 'tips')} by " \
                     f"{_plural(s['unique_tippers'], 'tipper', 'tippers')}."
            parts.append(money)
            top = (s.get("top_tippers") or [None])[0]
            if top:
                name = "an anonymous tipper" if top.get("anonymous") else top["username"]
                parts.append(f"The top tipper was {name} with {_n(top['tokens'])} tokens; "
                             f"the biggest single tip was {_n(s['biggest_tip'])}.")
        else:
            parts.append("No tokens came in during this session.")
        parts.append(
            f"{_plural(s['unique_visitors'], 'registered visitor', 'registered visitors')} came "
            f"({_n(s['new_visitors'])} new, {_n(s['returning_visitors'])} returning); viewers peaked at "
            f"{_n(s['peak_viewers'])} with {s['avg_viewers']} on average."
        )
        parts.append(
            f"{_plural(s['unique_chatters'], 'chatter', 'chatters')} wrote "
            f"{_plural(s['chat_messages'], 'message', 'messages')}; "
            f"{_plural(s['private_messages'], 'private message', 'private messages')} arrived."
        )
        follows = f"Follows: {_n(s['follows'])} new, {_n(s['unfollows'])} lost (net {_n(s['net_followers'])})"
        if s["fanclub_joins"]:
            follows += f"; {_plural(s['fanclub_joins'], 'fan-club join', 'fan-club joins')}"
        parts.append(follows + ".")
        if len(data.subjects) > 1:
            # Not quoted: a subject is viewer-facing free text whose numbers (goals, prices) are
            # not stats, and this text states numbers from the stats only.
            parts.append("The room subject changed during the show.")
        if data.marked_people:
            parts.append("Marked people who came: " + ", ".join(data.marked_people) + ".")
        return SummaryText(" ".join(parts), self.name, MODEL, PROMPT_VERSION)
