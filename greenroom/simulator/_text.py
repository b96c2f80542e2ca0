"""Text content for the simulated room: chat lines, tip notes, subjects, PMs.

Everything here is hostile-input material on purpose: HTML that must never be rendered, emoji and
scripts outside the Basic Multilingual Plane, right-to-left text, combining marks, control-ish
characters and very long lines. Consumers must store and escape it, never interpret it.
"""

from __future__ import annotations

import random

PLAIN_CHAT = (
    "hi", "hey there", "hello everyone", "good evening", "how are you today?", "you look amazing",
    "love this song", "what music is this?", "brb", "back", "lol", "lmao", "haha nice",
    "first time here, hi!", "missed you yesterday", "how was your weekend?", "great show tonight",
    "can you turn around?", "where are you from?", "nice outfit", "that's so cute", "gn everyone",
    "tip menu please", "is the goal close?", "what's the goal?", "😂", "ty for the show", "wow",
    "can't stay long tonight", "happy friday", "you're the best", "long day at work...",
    "anyone else here from europe?", "ok", "yes", "no way", "mods are asleep", "pvt later?",
)

UNICODE_CHAT = (
    "❤️❤️❤️", "😍🔥🔥", "👋 hi", "🎉🎉 goal!", "💋", "🌹 for you", "👨‍👩‍👧 family emoji test",
    "привет красотка", "hola guapa, ¿qué tal?", "こんにちは！", "你好", "안녕하세요", "مرحبا كيف حالك",
    "שלום לכולם", "Grüß Gott aus München", "ça va ? très bien", "ñandú pingüino", "Zalgo t̷̢e̸x̵t̶",
    "zero\u200bwidth\u200bspaces", "tab\there", "emoji skin tones 👍🏽👍🏿", "math 𝔸𝕓𝕔 ∑∞≠",
    "flag 🇧🇷🇯🇵🇩🇪", "RTL \u202emixed\u202c direction",
)

HTML_CHAT = (
    "<b>hi</b>", "<i>hello</i> there", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>', "</textarea><svg onload=alert(1)>",
    "&lt;b&gt;escaped already&lt;/b&gt;", "5 < 6 && 7 > 3", "\"quoted\" 'single' `tick`",
    "{{ 7*7 }} ${7*7} {% raw %}", "'; DROP TABLE events; --", "<style>body{display:none}</style>",
    "<iframe src=//example.invalid></iframe>", "&amp; &nbsp; &#x3C;",
)

EMOTICONS = (":smile", ":heart2", ":hotkiss", ":kitty", ":wave", ":bounce")

TIP_NOTES = (
    "for you", "great show", "love you", "goal!", "tip menu: song request", "happy birthday 🎂",
    "<b>bold tip</b>", "<script>alert('tip')</script>", "thanks for the smile", "❤️", "spin the wheel",
    "for the cat", "buy yourself something nice", "from your biggest fan", "keep going!",
)

SUBJECTS = (
    "Welcome! Goal: dance party at {goal} tokens #new #smile",
    "Chill evening, chat with me 💬 [{goal} tokens left]",
    "Spin the wheel 25tk | PVT open | Goal: {goal}",
    "<b>Happy weekend</b> ❤️ goal {goal} #music",
    "Birthday show!!! 🎂 every tip counts, goal {goal}",
    "Game night 🎮 vote with tips — {goal} to unlock",
)

PM_FROM_VIEWER = (
    "hey, are you free later?", "loved the show today", "can I ask you something?",
    "when are you online next?", "do you have a wishlist?", "sent you a tip, hope you liked it",
    "hi 🙂", "<b>private hi</b>", "<img src=x onerror=alert('pm')>", "you were amazing yesterday",
    "will you be on this weekend?", "thanks for the chat", "I bought your video!",
)

PM_FROM_OWNER = (
    "hey! thanks so much 💕", "I'm online tomorrow at 8", "thank you for the tip!",
    "haha of course", "see you later", "yes, link in my bio", "aww you're sweet",
    "sorry I missed your message", "sure, ask away", "glad you liked it 😘",
)

MEDIA_NAMES = {
    "photos": ("Beach day", "Holiday set", "Red dress", "Behind the scenes", "Cosplay <3"),
    "video": ("Morning routine", "Dance teaser", "Q&A", "Birthday special", "Unboxing 📦"),
}

FONTS = ("default", "default", "default", "arial", "verdana", "georgia", "comic")
COLORS = ("#494949", "#494949", "#FFFFFF", "#FF3333", "#3366FF", "#804BAA", "#DC5500", "#009900")
LONG_LINE_WORDS = ("lorem", "ipsum", "spam", "🔥", "<b>x</b>", "word", "ääää", "again", "ok", "🙈")


def chat_text(rng: random.Random) -> str:
    """A public chat line; mostly plain, with a steady trickle of hostile or exotic text."""
    roll = rng.random()
    if roll < 0.70:
        return rng.choice(PLAIN_CHAT)
    if roll < 0.85:
        return rng.choice(UNICODE_CHAT)
    if roll < 0.96:
        return rng.choice(HTML_CHAT)
    if roll < 0.994:
        return f"{rng.choice(EMOTICONS)} {rng.choice(PLAIN_CHAT)}"
    return long_line(rng)


def long_line(rng: random.Random) -> str:
    """A line of several KB, the kind that breaks fixed-width columns and naive previews."""
    target = rng.randint(2_000, 8_000)
    words: list[str] = []
    size = 0
    while size < target:
        word = rng.choice(LONG_LINE_WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)


def tip_note(rng: random.Random) -> str:
    """The note attached to a tip: often empty, sometimes the site's '| ' prefixed form."""
    roll = rng.random()
    if roll < 0.5:
        return ""
    note = rng.choice(TIP_NOTES)
    if roll < 0.65:
        return f"| {note}"
    return note


def subject(rng: random.Random) -> str:
    return rng.choice(SUBJECTS).format(goal=rng.choice((100, 250, 500, 777, 1000, 2000)))


def message_object(rng: random.Random, text: str, *, owner: bool = False) -> dict[str, object]:
    """A `message` object as the feed sends it; bgColor and orig are frequently null."""
    return {
        "message": text,
        "color": "#DC5500" if owner else rng.choice(COLORS),
        "bgColor": None if rng.random() < 0.85 else rng.choice(("#FFFF33", "#D1E3FF", "#FFE0E0")),
        "font": rng.choice(FONTS),
        "orig": None if rng.random() < 0.9 else text,
    }


def pm_object(rng: random.Random, text: str, from_user: str, to_user: str) -> dict[str, object]:
    obj = message_object(rng, text)
    obj["fromUser"] = from_user
    obj["toUser"] = to_user
    return obj
