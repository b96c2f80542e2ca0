"""The owner's password, login sessions, the login rate limit and API tokens.

Everything here is a plain function of a ``db`` session and ``now`` so the web layer, the CLI and
tests share one implementation. Nothing commits: the caller's unit of work does.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from greenroom.config import Settings
from greenroom.db.engine import Database
from greenroom.db.types import utcnow
from greenroom.errors import BadRequest, Conflict, NotFound
from greenroom.web.models import ApiToken, LoginFailure, LoginSession, Owner

OWNER_ID = 1
MIN_PASSWORD_LENGTH = 8
SESSION_LIFETIME = timedelta(days=30)
# Rate limit: failures counted over a sliding window. The overall limit is higher than the per-IP
# one so that one attacker cannot lock the owner out by failing from a single address, yet a
# spread-out guesser is still slowed to a crawl.
FAILURE_WINDOW = timedelta(minutes=5)
FAILURES_PER_IP = 5
FAILURES_OVERALL = 10
TOKEN_PREFIX = "grt_"  # noqa: S105 - a visible marker, not a secret

_hasher = PasswordHasher()


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# -- the owner ------------------------------------------------------------------------------------


def owner_exists(db: Session) -> bool:
    return db.get(Owner, OWNER_ID) is not None


def set_owner_password(db: Session, password: str, *, now: datetime) -> None:
    """Create the owner or change their password. Every login session ends with the old password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    password_hash = _hasher.hash(password)
    owner = db.get(Owner, OWNER_ID)
    if owner is None:
        db.add(Owner(id=OWNER_ID, password_hash=password_hash, created_at=now, password_changed_at=now))
    else:
        owner.password_hash = password_hash
        owner.password_changed_at = now
    db.execute(delete(LoginSession))
    db.flush()


def check_password(db: Session, password: str) -> bool:
    owner = db.get(Owner, OWNER_ID)
    if owner is None:
        # Hash anyway so the answer takes as long as with an owner (no timing oracle).
        _hasher.hash(password)
        return False
    try:
        _hasher.verify(owner.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(owner.password_hash):
        owner.password_hash = _hasher.hash(password)
    return True


def ensure_owner(database: Database, settings: Settings) -> bool:
    """At start-up: create the owner from ``GREENROOM_OWNER_PASSWORD`` when there is none yet.

    Returns whether an owner was created. An existing owner's password is never overwritten by the
    environment, so a stale variable cannot silently undo a password change.
    """
    if settings.owner_password is None or not settings.owner_password.get_secret_value():
        return False
    with database.write() as db:
        if owner_exists(db):
            return False
        set_owner_password(db, settings.owner_password.get_secret_value(), now=utcnow())
        return True


# -- login sessions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the owner through a login session, or an API token by name."""

    kind: str  # "session" | "token"
    csrf_token: str | None = None
    session_pk: int | None = None
    token_name: str | None = None


def create_login_session(db: Session, *, now: datetime, ip: str | None, user_agent: str | None) -> str:
    """Start a session; returns the raw session id for the cookie (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    db.execute(delete(LoginSession).where(LoginSession.expires_at < now))
    db.add(LoginSession(
        id_hash=_sha256(raw), csrf_token=secrets.token_urlsafe(32), created_at=now,
        expires_at=now + SESSION_LIFETIME, ip=(ip or "")[:64] or None, user_agent=(user_agent or "")[:300] or None,
    ))
    db.flush()
    return raw


def principal_for_session(db: Session, raw_session_id: str, *, now: datetime) -> Principal | None:
    row = db.execute(select(LoginSession).where(LoginSession.id_hash == _sha256(raw_session_id))).scalar_one_or_none()
    if row is None or row.expires_at <= now:
        return None
    return Principal(kind="session", csrf_token=row.csrf_token, session_pk=row.id)


def end_login_session(db: Session, session_pk: int) -> None:
    db.execute(delete(LoginSession).where(LoginSession.id == session_pk))


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(expected.encode(), given.encode())  # type: ignore[union-attr]


# -- the login rate limit -------------------------------------------------------------------------


def login_retry_after(db: Session, ip: str, *, now: datetime) -> int:
    """Seconds until another attempt is allowed from ``ip`` (0 = allowed now)."""
    since = now - FAILURE_WINDOW
    waits = []
    for limit, where in ((FAILURES_PER_IP, [LoginFailure.ip == ip]), (FAILURES_OVERALL, [])):
        times = db.execute(
            select(LoginFailure.at).where(LoginFailure.at > since, *where).order_by(LoginFailure.at.desc()).limit(limit)
        ).scalars().all()
        if len(times) >= limit:
            # Allowed again once the oldest of the last `limit` failures leaves the window.
            waits.append((times[-1] + FAILURE_WINDOW - now).total_seconds())
    return max(1, math.ceil(max(waits))) if waits else 0


def record_login_failure(db: Session, ip: str, *, now: datetime) -> None:
    db.execute(delete(LoginFailure).where(LoginFailure.at <= now - FAILURE_WINDOW))
    db.add(LoginFailure(ip=ip[:64], at=now))
    db.flush()


def clear_login_failures(db: Session, ip: str) -> None:
    db.execute(delete(LoginFailure).where(LoginFailure.ip == ip))


# -- API tokens -----------------------------------------------------------------------------------


def create_api_token(db: Session, name: str, *, now: datetime) -> str:
    """Create a named bearer token and return it; only its hash is kept, so it is shown once."""
    name = name.strip()
    if not name or len(name) > 64:
        raise BadRequest("a token name must have 1 to 64 characters")
    if db.execute(select(ApiToken.id).where(ApiToken.name == name)).first():
        raise Conflict(f"a token named {name!r} already exists")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.add(ApiToken(name=name, token_hash=_sha256(raw), created_at=now))
    db.flush()
    return raw


@dataclass(frozen=True)
class TokenInfo:
    name: str
    created_at: datetime
    last_used_at: datetime | None


def list_api_tokens(db: Session) -> list[TokenInfo]:
    rows = db.execute(select(ApiToken.name, ApiToken.created_at, ApiToken.last_used_at).order_by(ApiToken.name))
    return [TokenInfo(*row) for row in rows]


def revoke_api_token(db: Session, name: str) -> None:
    if db.execute(delete(ApiToken).where(ApiToken.name == name)).rowcount == 0:
        raise NotFound(f"no token named {name!r}")


TOKEN_TOUCH_INTERVAL = timedelta(minutes=10)


def principal_for_token(db: Session, raw: str, *, now: datetime) -> tuple[Principal | None, bool]:
    """The token's principal (None if unknown) and whether its last use is worth recording now."""
    row = db.execute(select(ApiToken.name, ApiToken.last_used_at).where(ApiToken.token_hash == _sha256(raw))).first()
    if row is None:
        return None, False
    stale = row.last_used_at is None or row.last_used_at < now - TOKEN_TOUCH_INTERVAL
    return Principal(kind="token", token_name=row.name), stale


def touch_api_token(db: Session, name: str, *, now: datetime) -> None:
    """Record use at most every ten minutes, so bearer reads do not each cost a write."""
    db.execute(update(ApiToken).where(ApiToken.name == name).values(last_used_at=now))


def count_login_sessions(db: Session, *, now: datetime) -> int:
    return db.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.expires_at > now)) or 0


# -- the signing key ------------------------------------------------------------------------------


def signing_key(settings: Settings) -> str:
    """``settings.secret_key``, else a key generated once into the data folder (mode 0600).

    The key is written to a private temporary file and hard-linked into place, which fails if the
    file exists: two processes starting together agree on one key and never read a half-written one.
    """
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value()
    path = Path(settings.data_dir) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty; delete it to generate a new key")
    return key
