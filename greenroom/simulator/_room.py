"""Event generation for one broadcast and for the offline time between broadcasts.

Events are produced as `(ms, method, object)` tuples, unsorted; the caller sorts each segment by
time (stable, so ties keep creation order) and assigns ids. Every timed action happens strictly
inside its visit (enter < action < leave), so a consumer that reconstructs presence from
userEnter/userLeave never sees a viewer act while "absent".
"""

from __future__ import annotations

import random
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from . import _text as text
from ._people import Person, Population, owner_object, user_object

Raw = tuple[int, str, dict[str, Any]]
MINUTE = 60_000
TIP_AMOUNTS = (1, 2, 5, 10, 11, 15, 20, 25, 30, 35, 50, 69, 75, 77, 99, 100, 111, 150, 200, 222, 250, 333,
               500, 555, 666, 777, 999, 1000, 1500, 2222, 5000)
TIP_WEIGHTS = (60, 15, 40, 60, 10, 20, 30, 45, 8, 20, 30, 10, 5, 8, 6, 20, 5, 4, 6, 2, 3, 2,
               3, 1, 1, 1, 1, 1.2, 0.4, 0.3, 0.15)
TIP_CUM = list(accumulate(TIP_WEIGHTS))
UNKNOWN_METHOD = "roomSurprise"


@dataclass
class Visit:
    person: Person
    user: dict[str, Any]
    enter: int
    leave: int  # clipped to the broadcast stop, for choosing action times


@dataclass
class Room:
    """Shared generation state: the rng stream, the population and a few running counters."""

    rng: random.Random
    population: Population
    broadcaster: str
    quirks: bool
    audience: int
    media_counter: int = 1000
    unknown_placed: bool = False
    _chattiness: dict[str, float] = field(default_factory=dict)

    def _user(self, person: Person) -> dict[str, Any]:
        return user_object(self.rng, person, self.quirks)

    def _tokens(self, value: int) -> int | str:
        # Quirk: numbers sometimes arrive as strings.
        return str(value) if self.quirks and self.rng.random() < 0.05 else value

    def _obj(self, user: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"broadcaster": self.broadcaster, "user": user, **extra}

    def _pm(self, at: int, sender: dict[str, Any], to: str, body: str, *, room: bool) -> Raw:
        message = text.pm_object(self.rng, body, str(sender["username"]), to)
        obj = {"broadcaster": self.broadcaster if room else "", "user": sender, "message": message}
        return (at, "privateMessage", obj)

    def _media(self, at: int, user: dict[str, Any]) -> Raw:
        rng = self.rng
        kind = rng.choice(("photos", "video"))
        self.media_counter += rng.randint(1, 40)
        media_id: int | str = self.media_counter
        if self.quirks and rng.random() < 0.4:
            media_id = str(media_id)  # the docs show a number; some payloads carry a string
        media = {"id": media_id, "name": rng.choice(text.MEDIA_NAMES[kind]), "type": kind,
                 "tokens": self._tokens(rng.choice((25, 50, 99, 150, 200, 300, 500)))}
        return (at, "mediaPurchase", self._obj(user, media=media))

    # -- one broadcast ---------------------------------------------------------------------------

    def broadcast(self, start: int, duration: int) -> tuple[list[Raw], int]:
        """Events of one broadcast from broadcastStart at `start`; returns (events, distinct viewers)."""
        rng, stop = self.rng, start + duration
        owner_live = owner_object(self.broadcaster, live=True)
        out: list[Raw] = [(start, "broadcastStart", self._obj(owner_live))]
        at = start + rng.randint(2_000, 60_000)
        while at < stop:
            out.append((at, "roomSubjectChange", {"broadcaster": self.broadcaster, "subject": text.subject(rng)}))
            at += rng.randint(30 * MINUTE, 150 * MINUTE)
        people = self.population.audience(rng, max(20, int(self.audience * rng.uniform(0.5, 1.5))))
        visits = self._visits(out, people, start, stop)
        self._chat(out, visits, start, stop, owner_live)
        self._tips(out, visits, duration, len(people))
        self._relations(out, visits)
        self._private(out, visits, stop, owner_live)
        if self.quirks and (not self.unknown_placed or rng.random() < 0.3):
            self.unknown_placed = True
            visit = visits[rng.randrange(len(visits))]
            surprise = {"kind": rng.choice(("confetti", "spotlight")), "level": rng.randint(1, 5)}
            out.append((self._inside(visit), UNKNOWN_METHOD, self._obj(visit.user, surprise=surprise)))
        out.append((stop, "broadcastStop", self._obj(owner_object(self.broadcaster, live=False))))
        return out, len(people)

    def _inside(self, visit: Visit) -> int:
        return self.rng.randint(visit.enter + 1, max(visit.enter + 1, visit.leave - 1))

    def _visits(self, out: list[Raw], people: list[Person], start: int, stop: int) -> list[Visit]:
        rng, visits = self.rng, []
        for person in people:
            n_visits = rng.randint(1, 3) if person.regular else rng.choices((1, 2, 3), (80, 15, 5))[0]
            mean_stay = (45 if person.regular else 12) * MINUTE
            enter = start + rng.randint(1_000, max(1_001, stop - start - MINUTE))
            for _ in range(n_visits):
                if enter >= stop - 30_000:
                    break
                user = self._user(person)
                leave = enter + max(20_000, int(rng.expovariate(1.0 / mean_stay)))
                out.append((enter, "userEnter", self._obj(user)))
                if leave < stop:
                    out.append((leave, "userLeave", self._obj(user)))
                elif not (self.quirks and rng.random() < 0.03):
                    # Still present at the stop: the room empties within a minute and a half.
                    out.append((stop + rng.randint(1, 90_000), "userLeave", self._obj(user)))
                visits.append(Visit(person, user, enter, min(leave, stop)))
                if leave >= stop:
                    break
                enter = leave + max(5_000, int(rng.expovariate(1.0 / (10 * MINUTE))))
        return visits

    def _weighted(self, visits: list[Visit], weight: list[float]) -> tuple[list[float], float]:
        cum = list(accumulate(w * max(1, v.leave - v.enter) for v, w in zip(visits, weight, strict=True)))
        return cum, cum[-1] if cum else 0.0

    def _pick(self, visits: list[Visit], cum: list[float], total: float) -> Visit:
        return visits[min(len(visits) - 1, bisect_left(cum, self.rng.random() * total))]

    def _chat(self, out: list[Raw], visits: list[Visit], start: int, stop: int, owner: dict[str, Any]) -> None:
        rng, chat = self.rng, self._chattiness
        for v in visits:
            if v.person.name not in chat:
                chat[v.person.name] = rng.expovariate(1.0) if rng.random() < 0.45 else 0.0
        cum, total = self._weighted(visits, [chat[v.person.name] for v in visits])
        if total <= 0:
            return
        lines = int((stop - start) / MINUTE * len(visits) / 50)
        for _ in range(lines):
            if rng.random() < 0.08:
                at, user = rng.randint(start + 1, stop - 1), owner
            else:
                visit = self._pick(visits, cum, total)
                at, user = self._inside(visit), visit.user
            out.append((at, "chatMessage", self._obj(user, message=text.message_object(rng, text.chat_text(rng)))))

    def _tips(self, out: list[Raw], visits: list[Visit], duration: int, n_people: int) -> None:
        rng = self.rng
        cum, total = self._weighted(visits, [v.person.generosity for v in visits])
        for _ in range(int(duration / (60 * MINUTE) * n_people * 0.12)):
            visit = self._pick(visits, cum, total)
            tokens = TIP_AMOUNTS[bisect_left(TIP_CUM, rng.random() * TIP_CUM[-1])]
            if rng.random() < 0.004:
                tokens = rng.randint(2_000, 20_000)  # the rare whale
            # An anonymous tip still carries the real user; hiding it is the consumer's job.
            tip = {"tokens": self._tokens(tokens), "isAnon": rng.random() < 0.05, "message": text.tip_note(rng)}
            out.append((self._inside(visit), "tip", self._obj(visit.user, tip=tip)))

    def _relations(self, out: list[Raw], visits: list[Visit]) -> None:
        rng = self.rng
        for visit in visits:
            person = visit.person
            if not person.follower and rng.random() < 0.02:
                person.follower = True
                out.append((self._inside(visit), "follow", self._obj(visit.user)))
            elif person.follower and rng.random() < 0.003:
                person.follower = False
                out.append((self._inside(visit), "unfollow", self._obj(visit.user)))
        cum, total = self._weighted(visits, [v.person.generosity for v in visits])
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            visit = self._pick(visits, cum, total)
            if not visit.person.fanclub:
                visit.person.fanclub = True
                visit.person.fc_auto_renew = rng.random() < 0.6
                out.append((self._inside(visit), "fanclubJoin", self._obj(visit.user)))
        for _ in range(rng.choice((0, 1, 1, 2, 4))):
            visit = self._pick(visits, cum, total)
            out.append(self._media(self._inside(visit), visit.user))

    def _private(self, out: list[Raw], visits: list[Visit], stop: int, owner: dict[str, Any]) -> None:
        rng, me = self.rng, self.broadcaster
        for _ in range(rng.randint(5, 30)):
            visit = visits[rng.randrange(len(visits))]
            at, viewer = self._inside(visit), str(visit.user["username"])
            if rng.random() < 0.8:
                out.append(self._pm(at, visit.user, me, rng.choice(text.PM_FROM_VIEWER), room=True))
                if rng.random() > 0.6:
                    continue
                at = min(stop - 1, at + rng.randint(5_000, 5 * MINUTE))
            out.append(self._pm(at, owner, viewer, rng.choice(text.PM_FROM_OWNER), room=True))

    # -- between broadcasts ----------------------------------------------------------------------

    def offline(self, start: int, end: int) -> list[Raw]:
        """Offline visits, DMs (empty broadcaster), follows and purchases while not broadcasting."""
        rng, out = self.rng, []
        if end - start < 2 * MINUTE:
            return out
        hours = (end - start) / (60 * MINUTE)

        def count(rate: float) -> int:
            expected = hours * rate
            return int(expected) + (rng.random() < expected - int(expected))

        owner = owner_object(self.broadcaster, live=False)
        for _ in range(count(1.5)):
            user = self._user(self.population.anyone(rng))
            enter = rng.randint(start, end - MINUTE)
            out.append((enter, "userEnter", self._obj(user)))
            out.append((min(end - 1, enter + rng.randint(10_000, 5 * MINUTE)), "userLeave", self._obj(user)))
        for _ in range(count(0.4)):
            user = self._user(self.population.anyone(rng))
            at = rng.randint(start, end - MINUTE)
            if rng.random() < 0.75:
                out.append(self._pm(at, user, self.broadcaster, rng.choice(text.PM_FROM_VIEWER), room=False))
                at += rng.randint(10_000, MINUTE - 1)
            out.append(self._pm(at, owner, str(user["username"]), rng.choice(text.PM_FROM_OWNER), room=False))
        for _ in range(count(0.1)):
            person = self.population.anyone(rng)
            method = "unfollow" if person.follower else "follow"
            person.follower = not person.follower
            out.append((rng.randint(start, end - 1), method, self._obj(self._user(person))))
        for _ in range(count(0.05)):
            out.append(self._media(rng.randint(start, end - 1), self._user(self.population.anyone(rng))))
        return out
