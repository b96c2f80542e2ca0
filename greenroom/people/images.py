"""The owner's images of a person, and the built-in placeholder when there are none.

Uploads are checked by their bytes (magic numbers), not by the name or the declared type, and
limited in size. Images are served from our own origin with their checked type and ``nosniff``.
The placeholder is an inline ``data:`` URL so a list of 50 people costs no extra requests.
"""

from __future__ import annotations

from base64 import b64encode
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from greenroom.errors import BadRequest, NotFound
from greenroom.people.models import PersonImage
from greenroom.people.queries import normalise

MAX_BYTES = 10 * 1024 * 1024
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff(data: bytes) -> str:
    """The image type the bytes really are; SVG is refused (it can carry script)."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise BadRequest("images must be PNG, JPEG, GIF or WebP")


def add_image(db: Session, feed_id: int, username: str, data: bytes, now: datetime, *, source: str = "",
              description: str = "", taken_on: date | None = None, make_current: bool | None = None) -> PersonImage:
    if not data:
        raise BadRequest("the image is empty")
    if len(data) > MAX_BYTES:
        raise BadRequest("images are at most 10 MB")
    kind = sniff(data)
    name = normalise(username)
    has_current = db.scalar(select(PersonImage.id).where(
        PersonImage.feed_id == feed_id, PersonImage.username == name, PersonImage.is_current.is_(True)))
    image = PersonImage(feed_id=feed_id, username=name, content_type=kind, size=len(data), data=data,
                        source=source[:300], description=description[:2000], taken_on=taken_on, is_current=False,
                        created_at=now)
    db.add(image)
    db.flush()
    if make_current or (make_current is None and has_current is None):
        set_current(db, feed_id, name, image.id)
    return image


def _get(db: Session, feed_id: int, username: str, image_id: int) -> PersonImage:
    image = db.get(PersonImage, image_id)
    if image is None or image.feed_id != feed_id or image.username != normalise(username):
        raise NotFound(f"no image {image_id} of {username!r}")
    return image


def get_image(db: Session, feed_id: int, username: str, image_id: int) -> PersonImage:
    return _get(db, feed_id, username, image_id)


def set_current(db: Session, feed_id: int, username: str, image_id: int) -> None:
    image = _get(db, feed_id, username, image_id)
    db.execute(update(PersonImage).where(PersonImage.feed_id == feed_id, PersonImage.username == image.username)
               .values(is_current=PersonImage.id == image_id).execution_options(synchronize_session=False))
    db.expire_all()


def delete_image(db: Session, feed_id: int, username: str, image_id: int) -> None:
    image = _get(db, feed_id, username, image_id)
    was_current = image.is_current
    db.delete(image)
    db.flush()
    if was_current:  # the newest remaining image becomes current, so there is one whenever any exist
        newest = db.scalar(select(PersonImage.id).where(PersonImage.feed_id == feed_id,
                                                        PersonImage.username == image.username)
                           .order_by(PersonImage.id.desc()).limit(1))
        if newest is not None:
            set_current(db, feed_id, image.username, newest)


def list_images(db: Session, feed_id: int, username: str) -> list[dict[str, Any]]:
    """Image metadata (not the bytes), newest first."""
    rows = db.execute(
        select(PersonImage.id, PersonImage.content_type, PersonImage.size, PersonImage.source,
               PersonImage.description, PersonImage.taken_on, PersonImage.is_current, PersonImage.created_at)
        .where(PersonImage.feed_id == feed_id, PersonImage.username == normalise(username))
        .order_by(PersonImage.id.desc())
    ).mappings().all()
    return [dict(r) for r in rows]


def current_image_ids(db: Session, feed_id: int, usernames: list[str]) -> dict[str, int]:
    if not usernames:
        return {}
    return dict(db.execute(select(PersonImage.username, PersonImage.id).where(
        PersonImage.feed_id == feed_id, PersonImage.username.in_(usernames), PersonImage.is_current.is_(True))).all())


def image_url(username: str, image_id: int) -> str:
    return f"/people/{username}/images/{image_id}"


_SILHOUETTE = {
    "viewer": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 120" role="img" aria-label="Viewer">'
        '<rect width="120" height="120" rx="12" fill="#e5e7eb"/>'
        '<circle cx="60" cy="46" r="20" fill="#9ca3af"/>'
        '<path d="M22 100c4-20 20-30 38-30s34 10 38 30z" fill="#9ca3af"/>'
        '<text x="60" y="114" font-family="sans-serif" font-size="12" text-anchor="middle" fill="#4b5563">'
        'Viewer</text></svg>'
    ),
    "model": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 120" role="img" aria-label="Model">'
        '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#f3e8ff"/>'
        '<stop offset="1" stop-color="#fce7f3"/></linearGradient></defs>'
        '<rect width="120" height="120" rx="12" fill="url(#g)"/>'
        '<path d="M38 52c0-16 10-28 22-28s22 12 22 28c0 10-4 20-4 26H42c0-6-4-16-4-26z" fill="#a855f7"/>'
        '<circle cx="60" cy="46" r="15" fill="#f5d0fe"/>'
        '<path d="M26 102c4-16 18-26 34-26s30 10 34 26z" fill="#7e22ce"/>'
        '<path d="M52 22l4-8 4 6 4-6 4 8z" fill="#eab308"/>'
        '<text x="60" y="116" font-family="sans-serif" font-size="12" text-anchor="middle" fill="#6b21a8">'
        'Model</text></svg>'
    ),
}


@cache
def placeholder_data_url(role: str) -> str:
    """A built-in silhouette labelled "Viewer" or "Model", as an inline data URL."""
    svg = _SILHOUETTE["model" if role == "model" else "viewer"]
    return "data:image/svg+xml;base64," + b64encode(svg.encode()).decode()
