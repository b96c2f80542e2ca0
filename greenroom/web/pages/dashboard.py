"""The dashboard: ingest status and the latest events, kept current by the live stream."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from greenroom.leaderboards.service import top_tippers
from greenroom.people.cards import cards
from greenroom.prefs.service import week_start
from greenroom.statsapi.queries import account
from greenroom.web.api.people_common import clock
from greenroom.web.event_queries import latest_events, views
from greenroom.web.templating import feed_status, render

router = APIRouter(include_in_schema=False)
LATEST = 50


@router.get("/")
def dashboard(request: Request) -> Response:
    tz = request.app.state.settings.timezone
    status = feed_status(request)
    with request.app.state.database.read() as db:
        rows = views(latest_events(db, LATEST, feed_id=status.feed_id), tz)
        people = (cards(db, status.feed_id, [r.username.lower() for r in rows if r.username], clock(request))
                  if status.feed_id is not None else {})
        leaders = top_tippers(db, status.feed_id, now=clock(request), tz=tz, week_start=week_start(db))
        stats_account = account(db, request.app.state.settings)  # None unless a Stats API URL is set
    return render(
        request, "dashboard.html",
        {"status": status, "events": rows, "after_pk": rows[0].pk if rows else 0, "latest": LATEST,
         "people": people, "leaders": leaders, "stats_account": stats_account},
        nav="dashboard",
    )
