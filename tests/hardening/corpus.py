"""Hostile and malformed Events API payloads, as the feed could deliver them.

Every entry is an envelope the store must keep (or quarantine with a reason) without stopping, and
whose text must reach every page only as inert text. Times are whole seconds after ``T0`` so the
known events fall in one broadcast.
"""

from __future__ import annotations

from typing import Any

T0 = 1_764_340_000_000  # 2025-11-28 14:26:40 UTC
ROOM = "alice"
MEGABYTE = 1024 * 1024

# Markup that would run, load or break out of an attribute if it ever reached a page unescaped.
MARKUP = [
    '<script>alert("xss-chat")</script>',
    "<img src=x onerror=alert(2)>",
    '"><svg/onload=alert(3)>',
    "' onmouseover='alert(4)' x='",
    '" onmouseover="alert(5)" x="',
    "</title></textarea></script><script>alert(6)</script>",
    '<a href="javascript:alert(7)">click me</a>',
    "<iframe src=//evil.example></iframe>",
    "{{ 7*7 }} {% if 1 %}jinja{% endif %} ${7*7}",
    "<style>body{display:none}</style><base href=//evil.example/>",
]
# Text that is odd rather than hostile: it must come back exactly (or as U+FFFD where a column
# cannot hold it) and never break a page.
ODD_TEXT = [
    "right-to-left \u202eoverride\u202c here",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "family \U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 flag \U0001f3f3\ufe0f\u200d\U0001f308",
    "nul \x00 byte",
    "lone \ud800 surrogate",
    "combining e\u0301\u0301\u0301 and \ufdfd",
]
# Usernames a page shows, links to and puts in attributes (no control characters: those quarantine).
HOSTILE_USERS = [
    "<script>alert(9)</script>",
    "<img src=x onerror=alert(10)>",
    '" onmouseover="alert(11)',
    "Ev'il&amp;Co",
    "rtl\u202eresu",
    "zero\u200bwidth",
]
# What must never appear raw in any HTML we serve (each comes from MARKUP or HOSTILE_USERS).
NEEDLES = ["<script>alert", "<img src=x", "<svg/onload", "<iframe src=//evil", "<style>body", "<base href",
           '" onmouseover=', "' onmouseover=", '<a href="javascript:']


def _id(second: int, seq: int = 0) -> str:
    return f"{T0 + second * 1000}-{seq}"


def _user(name: str, **extra: Any) -> dict[str, Any]:
    return {"username": name, "inFanclub": False, "isMod": False, "recentTips": "none", "gender": "m", **extra}


def envelope(second: int, method: str, **obj: Any) -> dict[str, Any]:
    return {"method": method, "id": _id(second), "object": {"broadcaster": ROOM, **obj}}


def chat(second: int, user: str, text: Any) -> dict[str, Any]:
    return envelope(second, "chatMessage", user=_user(user),
                    message={"message": text, "color": "#494949", "bgColor": None, "font": "default"})


def pm(second: int, sender: str, recipient: str, text: Any, broadcaster: str = ROOM) -> dict[str, Any]:
    env = envelope(second, "privateMessage", user=_user(sender),
                   message={"message": text, "fromUser": sender, "toUser": recipient, "color": "", "font": ""})
    env["object"]["broadcaster"] = broadcaster
    return env


def tip(second: int, user: str, tokens: Any, note: Any = "") -> dict[str, Any]:
    return envelope(second, "tip", user=_user(user), tip={"tokens": tokens, "isAnon": False, "message": note})


def build() -> dict[str, list[Any]]:
    """The corpus in three parts: delivered in order as separate batches."""
    s = iter(range(1, 10_000))
    known: list[Any] = [envelope(next(s), "broadcastStart", user=_user(ROOM))]
    known.append(envelope(next(s), "roomSubjectChange", subject=MARKUP[0] + " #subject"))
    for name in HOSTILE_USERS:
        known.append(envelope(next(s), "userEnter", user=_user(name, isBroadcasting=True)))
    for i, text in enumerate(MARKUP + ODD_TEXT):
        user = HOSTILE_USERS[i % len(HOSTILE_USERS)]
        known.append(chat(next(s), user, text))
        known.append(tip(next(s), user, 5 + i, "| " + text))
        known.append(pm(next(s), user, ROOM, text))
    known.append(pm(next(s), ROOM, HOSTILE_USERS[1], "reply " + MARKUP[1]))
    known.append(envelope(next(s), "follow", user=_user(HOSTILE_USERS[2])))
    known.append(envelope(next(s), "fanclubJoin", user=_user(HOSTILE_USERS[0])))
    known.append(envelope(next(s), "mediaPurchase", user=_user(HOSTILE_USERS[3]),
                          media={"id": 77, "name": MARKUP[1], "type": "photos", "tokens": 25}))
    known.append(envelope(next(s), "roomSubjectChange", subject=MARKUP[4] + " " + ODD_TEXT[0]))
    # Sizes: 1 MB of text in each free-text field.
    big = "A<b>" + "x" * MEGABYTE + "</b>"
    known.append(chat(next(s), "bigmouth", big))
    known.append(pm(next(s), "bigmouth", ROOM, big))
    known.append(tip(next(s), "bigmouth", 1, big))
    # Types as some clients send them, extra keys everywhere: normalised, not refused.
    known.append(tip(next(s), "stringy", "25", "tokens as a string"))
    extra = tip(next(s), "extra_keys", 3, "extra keys")
    extra["unexpected"] = {"nested": [1, 2]}
    extra["object"]["tip"]["bonus"] = True
    extra["object"]["user"]["newAttribute"] = "<b>x</b>"
    known.append(extra)
    known.append({"method": "userEnter", "id": 1234567, "object": {"broadcaster": ROOM, "user": _user("numeric_id")}})
    for method in ("superTip", "<script>alert(12)</script>", "x" * 40):
        known.append(envelope(next(s), method, user=_user("from_the_future"), anything={"at": "all"}))
    known.append(envelope(next(s), "broadcastStop", user=_user(ROOM)))
    known.append(pm(next(s), HOSTILE_USERS[0], ROOM, "offline " + MARKUP[0], broadcaster=""))

    # Payloads that break a rule processing relies on: stored with a reason and skipped.
    quarantined: list[Any] = [
        tip(next(s), "negative", -5, "negative tokens"),
        tip(next(s), "wordy", "many", "tokens as words"),
        tip(next(s), "boolish", True, "tokens as a boolean"),
        chat(next(s), "listy", ["not", "text"]),
        chat(next(s), "nul\x00name", "a NUL inside a username"),
        chat(next(s), "x" * 65, "a username too long"),
        envelope(next(s), "chatMessage", user="just a string", message={"message": "user is text"}),
        envelope(next(s), "tip", user=_user("no_tip_object")),
        {"method": "chatMessage", "id": _id(next(s)), "object": ["not", "an", "object"]},
        {"id": _id(next(s)), "object": {"broadcaster": ROOM}},
        {"method": 123, "id": _id(next(s)), "object": {}},
        envelope(next(s), "mediaPurchase", user=_user("medianone"), media={"id": None}),
    ]
    # No usable id at all: kept in quarantined_payloads with the reason.
    orphans: list[Any] = [
        {"method": "tip", "object": {"broadcaster": ROOM}},
        {"method": "tip", "id": {"nested": 1}, "object": {}},
        {"method": "tip", "id": 1.5, "object": {}},
        {"method": "tip", "id": "", "object": {}},
        {"method": "tip", "id": "x" * 65, "object": {}},
        {"method": "tip", "id": "bad\x00id", "object": {}},
        "just a string",
        ["a", "list"],
        None,
        42,
    ]
    return {"known": known, "quarantined": quarantined, "orphans": orphans}


def duplicates(corpus: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Re-deliveries of stored ids with different bodies: the first stored body must win."""
    first_chat = next(e for e in corpus["known"] if e["method"] == "chatMessage")
    first_tip = next(e for e in corpus["known"] if e["method"] == "tip")
    return [
        {**first_chat, "object": {**first_chat["object"], "message": {"message": "REWRITTEN <b>later</b>"}}},
        {**first_tip, "object": {**first_tip["object"], "tip": {"tokens": 99_999, "message": "REWRITTEN"}}},
    ]
