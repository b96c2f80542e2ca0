"""The simulated audience: a Zipf-shaped population of usernames and their user objects.

A few regulars come to almost every broadcast, a long tail shows up once. Usernames have a
canonical lower-case identity and a display form, because the site is case-insensitive but
the feed carries whatever case the account was created with.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from itertools import accumulate

WORDS = (
    "cool", "guy", "night", "owl", "sun", "moon", "wolf", "tiger", "happy", "lucky", "dark", "blue",
    "red", "king", "prince", "joe", "mike", "dan", "sam", "max", "alex", "kim", "lee", "jay", "ray",
    "fox", "bear", "shy", "lonely", "big", "little", "silent", "wild", "sweet", "honey", "star",
    "rock", "river", "lake", "storm", "pixel", "ghost", "coffee", "tea", "viking", "samurai", "panda",
    "dragon", "rider", "lover", "fan", "dude", "boy", "man", "john", "tom", "nick", "carlos", "hans",
)
TIERS = ("none", "few", "some", "lots", "tons")
TIER_COLOR = {"none": "g", "few": "t", "some": "tr", "lots": "p", "tons": "l"}
LANGUAGES = ("en", "en", "en", "en", "de", "es", "fr", "it", "pt", "ru", "ja", "pl", "ko", "zh")
OPTIONAL_KEYS = (
    "inFanclub", "hasTokens", "isMod", "recentTips", "gender", "subgender", "colorGroup",
    "fcAutoRenew", "hasDarkmode", "inPrivateShow", "isBroadcasting", "isFollower", "isOwner",
    "isSilenced", "isSpying", "language",
)


class Person:
    """One account in the population; mutable flags change as the script unfolds."""

    __slots__ = (
        "name", "display", "regular", "model", "gender", "subgender", "language", "tier",
        "generosity", "is_mod", "follower", "fanclub", "fc_auto_renew", "darkmode",
    )

    def __init__(self, name: str, display: str) -> None:
        self.name = name
        self.display = display
        self.regular = False
        self.model = False
        self.gender = "m"
        self.subgender = ""
        self.language = "en"
        self.tier = "none"
        self.generosity = 0.0
        self.is_mod = False
        self.follower = False
        self.fanclub = False
        self.fc_auto_renew = False
        self.darkmode = False


def _username(rng: random.Random) -> tuple[str, str]:
    a, b = rng.choice(WORDS), rng.choice(WORDS)
    style = rng.random()
    if style < 0.35:
        parts = [a, b]
    elif style < 0.6:
        parts = [a, "_", b]
    elif style < 0.85:
        parts = [a, b, str(rng.randint(1, 9999))]
    else:
        parts = [a, str(rng.randint(60, 2005))]
    name = "".join(parts)
    # Display-case accounts ("CoolGuy") are the same person as "coolguy" for identity purposes.
    display = "".join(p.capitalize() for p in parts) if rng.random() < 0.2 else name
    return name, display


class Population:
    """`size` people ranked by how often they come; sampling is O(log n) per draw."""

    def __init__(self, rng: random.Random, size: int, broadcaster: str) -> None:
        size = max(size, 50)
        taken = {broadcaster.lower()}
        self.people: list[Person] = []
        while len(self.people) < size:
            name, display = _username(rng)
            if name in taken:
                continue
            taken.add(name)
            self.people.append(self._traits(rng, Person(name, display), len(self.people)))
        self.n_regulars = max(5, size // 60)
        for person in self.people[: self.n_regulars]:
            person.regular = True
        # Zipf weights over the tail: a handful of names dominate, most appear once or twice.
        tail = self.people[self.n_regulars :]
        self._tail = tail
        self._cum = list(accumulate(1.0 / (rank + 1) ** 1.05 for rank in range(len(tail))))

    @staticmethod
    def _traits(rng: random.Random, person: Person, rank: int) -> Person:
        person.model = rng.random() < 0.03
        if person.model:
            person.gender = rng.choice(("f", "f", "f", "t", "c", "m"))
        else:
            person.gender = rng.choices(("m", "f", "t", "c"), weights=(85, 7, 5, 3))[0]
        if person.gender == "t":
            person.subgender = rng.choice(("tf", "tm", "tn"))
        person.language = rng.choice(LANGUAGES)
        boost = 1 if rank < 100 else 0
        idx = min(4, rng.choices(range(5), weights=(50, 25, 15, 7, 3))[0] + boost)
        person.tier = TIERS[idx]
        person.generosity = (0.05, 0.3, 1.0, 3.0, 8.0)[idx] * (3.0 if rank < 40 else 1.0)
        person.is_mod = rank < 4 and rng.random() < 0.7
        person.follower = rank < 200 and rng.random() < 0.5
        person.darkmode = rng.random() < 0.3
        return person

    def audience(self, rng: random.Random, size: int) -> list[Person]:
        """Distinct people for one broadcast: most regulars, then a Zipf draw from the tail."""
        chosen = [p for p in self.people[: self.n_regulars] if rng.random() < 0.85]
        seen = {p.name for p in chosen}
        total = self._cum[-1]
        attempts = 0
        while len(chosen) < size and attempts < size * 4:
            attempts += 1
            person = self._tail[bisect_left(self._cum, rng.random() * total)]
            if person.name not in seen:
                seen.add(person.name)
                chosen.append(person)
        return chosen

    def anyone(self, rng: random.Random) -> Person:
        total = self._cum[-1]
        if rng.random() < 0.3:
            return self.people[rng.randrange(self.n_regulars)]
        return self._tail[bisect_left(self._cum, rng.random() * total)]


def user_object(rng: random.Random, person: Person, quirks: bool) -> dict[str, object]:
    """A `user` object for one visit, with the documented keys first and observed extras after."""
    username = person.display
    if quirks and username != person.name and rng.random() < 0.15:
        username = person.name
    color = "m" if person.is_mod else "f" if person.fanclub else TIER_COLOR[person.tier]
    user: dict[str, object] = {
        "username": username,
        "inFanclub": person.fanclub,
        "hasTokens": person.tier != "none" or rng.random() < 0.4,
        "isMod": person.is_mod,
        "recentTips": person.tier,
        "gender": person.gender,
        "subgender": person.subgender,
        "colorGroup": color,
        "fcAutoRenew": person.fanclub and person.fc_auto_renew,
        "hasDarkmode": person.darkmode,
        "inPrivateShow": False,
        "isBroadcasting": person.model and rng.random() < 0.7,
        "isFollower": person.follower,
        "isOwner": False,
        "isSilenced": False,
        "isSpying": False,
        "language": person.language,
    }
    if quirks and rng.random() < 0.1:
        # Only `username` is reliable: drop a random handful of the optional keys.
        for key in rng.sample(OPTIONAL_KEYS, rng.randint(3, len(OPTIONAL_KEYS))):
            del user[key]
    return user


def owner_object(broadcaster: str, *, live: bool) -> dict[str, object]:
    return {
        "username": broadcaster,
        "inFanclub": False,
        "hasTokens": True,
        "isMod": False,
        "recentTips": "none",
        "gender": "f",
        "subgender": "",
        "colorGroup": "o",
        "isBroadcasting": live,
        "isFollower": False,
        "isOwner": True,
        "language": "en",
    }
