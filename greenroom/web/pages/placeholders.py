"""Honest pages for navigation entries whose feature is not available yet.

``create_app`` adds one only for a navigation path no other router serves, so a feature that ships
its page replaces its placeholder just by being listed in ``ROUTER_MODULES``.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from starlette.responses import Response

from greenroom.web.templating import NavItem, render

# What each page will show, in the owner's words (PAGES.md).
PROMISES = {
    "sessions": "Every broadcast with its stats, status and summary, to compare and find.",
    "admin": "Feed health, jobs, settings and data tools.",
}


def _page(item: NavItem) -> Callable[[Request], Response]:
    def page(request: Request) -> Response:
        return render(request, "placeholder.html", {"item": item, "promise": PROMISES.get(item.key, "")},
                      nav=item.key)

    page.__name__ = f"placeholder_{item.key}"
    return page


def router_for(items: list[NavItem]) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for item in items:
        router.add_api_route(item.path, _page(item), methods=["GET"])
    return router
