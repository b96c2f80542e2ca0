"""People: derived tables (rebuilt from the event store) and the owner's tables (never rebuilt).

Derived, keyed by feed: ``people`` (one row per normalised username, counters and latest
attributes), ``person_events`` (which person each event is about, so a timeline includes the PMs
the owner sent, whose ``user`` is the owner) and ``person_days`` (tokens per person per UTC day,
for 7/30-day spend).

Owner data: notes, images, names, relationship (+ history), watchlists. They are keyed by
``(feed_id, username)`` and carry no foreign key to ``people``: a rebuild deletes and re-creates
people, and a cascading or restricting key would either lose the owner's words or block it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from greenroom.db.base import Base
from greenroom.db.types import BigIntPK, JSONType, UTCDateTime


class Role(StrEnum):
    VIEWER = "viewer"
    MODEL = "model"


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (
        # Identity; on SQLite (binary collation) also "name starts with" search as a range scan.
        Index("ux_people_feed_username", "feed_id", "username", unique=True),
        # PostgreSQL only uses a btree for ``LIKE 'abc%'`` with the pattern operator class (the
        # database collation is not "C"); SQLite just gets a second copy of the identity index.
        Index("ix_people_feed_username_prefix", "feed_id", "username",
              postgresql_ops={"username": "text_pattern_ops"}),
        # The People list sorts.
        Index("ix_people_feed_last_seen", "feed_id", "last_seen"),
        Index("ix_people_feed_tokens", "feed_id", "lifetime_tokens"),
        Index("ix_people_feed_visits", "feed_id", "visits"),
        Index("ix_people_feed_first_seen", "feed_id", "first_seen"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"))
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(64))
    seen_broadcasting: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    attributes: Mapped[Any] = mapped_column(JSONType)
    follower: Mapped[bool] = mapped_column(Boolean, default=False)
    in_fanclub: Mapped[bool] = mapped_column(Boolean, default=False)
    followed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    unfollowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    lifetime_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    tip_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    tips: Mapped[int] = mapped_column(Integer, default=0)
    media_purchases: Mapped[int] = mapped_column(Integer, default=0)
    visits: Mapped[int] = mapped_column(Integer, default=0)
    chat_messages: Mapped[int] = mapped_column(Integer, default=0)
    private_messages: Mapped[int] = mapped_column(Integer, default=0)
    last_tip_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class PersonEvent(Base):
    """The person an event is about (a PM's counterpart, whoever sent it)."""

    __tablename__ = "person_events"
    __table_args__ = (
        Index("ix_person_events_person", "feed_id", "username", "event_pk"),
        Index("ix_person_events_person_method", "feed_id", "username", "method", "event_pk"),
    )

    event_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    feed_id: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(40))


class PersonDay(Base):
    """Tokens a person spent on one UTC day: 7/30-day spend without scanning their events."""

    __tablename__ = "person_days"
    __table_args__ = (Index("ix_person_days_feed_day", "feed_id", "day"),)

    feed_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    tokens: Mapped[int] = mapped_column(BigInteger, default=0)


# ---- owner data -------------------------------------------------------------------------------


class PersonNote(Base):
    __tablename__ = "person_notes"
    __table_args__ = (Index("ix_person_notes_person", "feed_id", "username", "noted_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    feed_id: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    noted_at: Mapped[datetime] = mapped_column(UTCDateTime)  # editable: "when this happened"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class PersonImage(Base):
    __tablename__ = "person_images"
    __table_args__ = (Index("ix_person_images_person", "feed_id", "username", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    feed_id: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    taken_on: Mapped[date | None] = mapped_column(Date, default=None)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PersonProfile(Base):
    """Names the owner keeps, and the owner's own "this is a model" mark."""

    __tablename__ = "person_profiles"

    feed_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    real_name: Mapped[str] = mapped_column(String(200), default="")
    display_name: Mapped[str] = mapped_column(String(200), default="")
    address_terms: Mapped[Any] = mapped_column(JSONType)  # ["Sir", "Mr. J"]
    marked_model: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RelationshipStatus(StrEnum):
    POTENTIAL = "potential"
    OCCASIONAL = "occasional"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    INACTIVE = "inactive"
    DECOMMISSIONED = "decommissioned"
    BANISHED = "banished"


RELATIONSHIP_ROLES = ("friend", "sub", "dom", "custom")


class Relationship(Base):
    """One unified record per person: roles, status, traits, dates and notes."""

    __tablename__ = "relationships"
    __table_args__ = (Index("ix_relationships_feed_status", "feed_id", "status"),)

    feed_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    roles: Mapped[Any] = mapped_column(JSONType)  # subset of RELATIONSHIP_ROLES
    custom_label: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(24), default=RelationshipStatus.POTENTIAL)
    traits: Mapped[Any] = mapped_column(JSONType)
    since: Mapped[date | None] = mapped_column(Date, default=None)
    until: Mapped[date | None] = mapped_column(Date, default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    is_friend: Mapped[bool] = mapped_column(Boolean, default=False)  # "friend entered" alerts ask this
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RelationshipChange(Base):
    """What changed in a relationship, from what, to what, when (written on every save)."""

    __tablename__ = "relationship_changes"
    __table_args__ = (Index("ix_relationship_changes_person", "feed_id", "username", "changed_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    feed_id: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(24))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WatchlistEntry(Base):
    """A person on one of the owner's named watchlists."""

    __tablename__ = "watchlist_entries"
    __table_args__ = (Index("ix_watchlist_entries_list", "feed_id", "list_name"),)

    feed_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    list_name: Mapped[str] = mapped_column(String(60), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatExclusion(Base):
    """A username (normalised) that counts in no stat: the owner's own or test accounts."""

    __tablename__ = "stat_exclusions"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
