"""The Leaderboards page: period and metric tabs, a session picker, top N with pages, the
shareable view and exports of exactly the rows shown (definitions in docs/leaderboards.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from greenroom.leaderboards import service
from greenroom.leaderboards.queries import MAX_LIMIT, METRIC_LABELS, sessions_for_picker
from greenroom.web.api.leaderboards import read_view
from greenroom.web.api.people_common import feed_id_of
from greenroom.web.exporting import check_format, export_response
from greenroom.web.templating import render

router = APIRouter(include_in_schema=False)
LIMITS = (10, 25, 50, 100)
EMPTY_REASONS = {
    "tokens": "Nobody spent tokens (tips or media) in {p}.",
    "tips": "Nobody tipped in {p}.",
    "visits": "Nobody entered the room in {p}.",
    "watch_time": "Nobody watched the broadcast in {p} (watch time counts only while the room is live).",
    "chat": "Nobody wrote in the public chat in {p}.",
}


def _url(params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    keep = {k: v for k, v in merged.items() if v not in (None, "", False)
            and not (k == "page" and v == 1) and not (k == "offset" and v == 0)
            and not (k == "limit" and v == service.DEFAULT_LIMIT)}
    if merged.get("period") != "session":
        keep.pop("session_id", None)
    if merged.get("period") in ("session", "all"):
        keep.pop("offset", None)
    if "shareable" in keep:
        keep["shareable"] = 1
    return "/leaderboards" + ("?" + urlencode(keep) if keep else "")


@router.get("/leaderboards")
def leaderboards_page(
    request: Request,
    period: str = Query(default="session", max_length=10),
    metric: str = Query(default="tokens", max_length=12),
    session_id: int | None = Query(default=None, ge=1, le=2**62),
    offset: int = Query(default=0, ge=0, le=1040),
    limit: int = Query(default=service.DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    page: int = Query(default=1, ge=1, le=1_000_000),
    shareable: str | None = Query(default=None, max_length=5),
    format: str | None = Query(default=None, max_length=8),  # noqa: A002
) -> Response:
    fmt = check_format(format)
    q = service.Query(period=period.strip().lower(), metric=metric.strip().lower(), session_id=session_id,
                      offset=offset, page=page, limit=limit, shareable=service.parse_shareable(shareable))
    view, tz, first_day = read_view(request, q)
    if fmt is not None:
        rows, columns = service.export_rows(view)
        return export_response(rows, columns, fmt, service.export_basename(view))
    params: dict[str, Any] = {"period": q.period, "metric": q.metric, "offset": q.offset, "limit": q.limit,
                              "page": q.page, "shareable": q.shareable,
                              "session_id": view.session.id if view.session else None}
    feed_id = feed_id_of(request)
    picker = []
    if q.period == "session" and feed_id is not None:
        with request.app.state.database.read() as db:
            picker = sessions_for_picker(db, feed_id)
        if view.session is not None and all(s.id != view.session.id for s in picker):
            picker.append(view.session)
    period = service.describe(view)
    period_words = "this session" if q.period == "session" else period["label"].lower() if q.period == "all" \
        else f"{period['name'].lower()} ({period['label']})"
    period_tabs = [
        ("Session", _url(params, period="session", page=1, session_id=None), q.period == "session"),
        ("This week", _url(params, period="week", offset=0, page=1), q.period == "week" and q.offset == 0),
        ("Last week", _url(params, period="week", offset=1, page=1), q.period == "week" and q.offset == 1),
        ("This month", _url(params, period="month", offset=0, page=1), q.period == "month" and q.offset == 0),
        ("Last month", _url(params, period="month", offset=1, page=1), q.period == "month" and q.offset == 1),
        ("All time", _url(params, period="all", page=1), q.period == "all"),
    ]
    if q.period in ("week", "month") and q.offset > 1:
        period_tabs.insert(5 if q.period == "month" else 3, (period["name"], _url(params), True))
    context = {
        "view": view, "q": q, "period": period, "tz": tz, "week_start": first_day.capitalize(),
        "metrics": [(k, v, _url(params, metric=k, page=1)) for k, v in METRIC_LABELS.items()],
        "metric_label": METRIC_LABELS[q.metric], "period_tabs": period_tabs, "picker": picker,
        "limits": [(n, _url(params, limit=n, page=1)) for n in LIMITS],
        "earlier": _url(params, offset=q.offset + 1, page=1) if q.period in ("week", "month") else None,
        "later": _url(params, offset=q.offset - 1, page=1) if q.period in ("week", "month") and q.offset else None,
        "earlier_session": _url(params, session_id=view.previous_session, page=1) if view.previous_session else None,
        "later_session": _url(params, session_id=view.next_session, page=1) if view.next_session else None,
        "share_on": _url(params, shareable=True, page=q.page), "share_off": _url(params, shareable=False),
        "export_csv": _url(params, format="csv"), "export_json": _url(params, format="json"),
        "prev_page": _url(params, page=q.page - 1) if q.page > 1 else None,
        "next_page": _url(params, page=q.page + 1) if q.page < view.pages else None,
        "first_page": _url(params, page=1),
        "empty_reason": EMPTY_REASONS[q.metric].format(p=period_words), "tie_break": service.TIE_BREAK,
        "has_feed": feed_id is not None,
        "grand_text": service.format_value(q.metric, view.grand_total),
    }
    return render(request, "leaderboards/index.html", context, nav="leaderboards")
