"""The People page (search, filter chips, sort, numbered pages) and the people stylesheet and images."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from greenroom.errors import BadRequest
from greenroom.people import images, queries
from greenroom.people.cards import cards
from greenroom.people.models import RELATIONSHIP_ROLES
from greenroom.people.relationships import ROLE_LABELS, STATUS_LABELS
from greenroom.web.api.people_common import clock, feed_id_of, require_feed
from greenroom.web.exporting import check_format, export_people, export_query
from greenroom.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZES = (25, 50, 100)
CHIPS = [("all", "All"), ("tippers", "Tippers"), ("regulars", "Regulars"), ("new", "New"),
         ("followers", "Followers"), ("unfollowed", "Unfollowed"), ("fanclub", "Fan club"), ("models", "Models"),
         ("watchlist", "Watchlist"), ("excluded", "Excluded")]
SORT_LABELS = [("last_seen", "Last seen"), ("tokens", "Lifetime tokens"), ("visits", "Visits"),
               ("first_seen", "First seen"), ("name", "Name")]
ASSETS = Path(__file__).resolve().parent.parent / "templates" / "people"
CSS = (ASSETS / "people.css").read_text()
JS = (ASSETS / "people.js").read_text()


@router.get("/people/assets/people.css")
def people_css() -> Response:
    # Same origin, so the CSP's style-src 'self' allows it; kept next to the templates using it.
    return Response(CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/people/assets/people.js")
def people_js() -> Response:
    return Response(JS, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})


@router.get("/people")
def people_page(request: Request, q: str = Query(default="", max_length=64), filter: str = Query(default="all"),  # noqa: A002
                sort: str = Query(default="last_seen"), status: str = Query(default=""),
                role: str = Query(default=""), size: int = Query(default=50), page: int = Query(default=1, ge=1),
                view: str = Query(default="list"),
                format: str | None = Query(default=None)) -> Response:  # noqa: A002 (csv or json: export all)
    if size not in PAGE_SIZES:
        size = 50
    if filter not in queries.FILTERS:
        raise BadRequest("unknown filter")
    feed_id = feed_id_of(request)
    now = clock(request)
    if fmt := check_format(format):
        return export_people(request.app.state.database, fmt, feed_id=feed_id, q=q, filter=filter, sort=sort,
                             status=status, role=role, now=now)
    rows: list[dict] = []
    total = 0
    if feed_id is not None:
        with request.app.state.database.read() as db:
            found = queries.search_people(db, feed_id, q=q, filter=filter, sort=sort, relationship_status=status,
                                          relationship_role=role, limit=size, offset=(page - 1) * size, now=now)
            info = cards(db, feed_id, [p.username for p in found.people], now, people=found.people)
            rows = [info[p.username] | {"person": p} for p in found.people]
            total = found.total
    params = {"q": q, "filter": filter, "sort": sort, "status": status, "role": role, "size": size, "view": view}
    return render(request, "people/list.html", {
        "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // size)), "size": size,
        "first": (page - 1) * size + 1 if total else 0, "last": min(page * size, total), "params": params,
        "chips": CHIPS, "sorts": SORT_LABELS, "sizes": PAGE_SIZES, "statuses": STATUS_LABELS,
        "roles": [(r, ROLE_LABELS[r]) for r in RELATIONSHIP_ROLES], "export_query": export_query(request),
    }, nav="people")


@router.get("/people/{username}/images/{image_id}")
def person_image(request: Request, username: str, image_id: int) -> Response:
    feed_id = require_feed(request)
    with request.app.state.database.read() as db:
        image = images.get_image(db, feed_id, username, image_id)
        data, kind = image.data, image.content_type
    # The type is the one sniffed at upload; nosniff (set by the gate) stops the browser guessing.
    return Response(data, media_type=kind, headers={"Cache-Control": "private, max-age=86400",
                                                    "Content-Disposition": "inline"})
