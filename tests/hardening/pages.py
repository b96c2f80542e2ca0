"""Fetching every page of the app signed in, and judging whether hostile text stayed inert."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

from greenroom.web.app import route_table

# Never fetched as pages: the schema (checked by the API fuzz), sign-out, the event stream (it is
# checked on its own, from position 0) and static files (no data in them).
NOT_PAGES = {"/api/openapi.json", "/logout", "/events/stream"}
# Tags that would load or run something no page of ours ever needs.
FORBIDDEN_TAGS = {"iframe", "frame", "frameset", "object", "embed", "base", "applet", "meta-refresh"}
OWN_HOSTS = {"testserver"}
# Links out that pages make on purpose (a person's room on the site), with the name percent-encoded.
LINK_HOSTS = {"chaturbate.com"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "data"}


def _own(url: str) -> bool:
    """A relative URL, a fragment, or one on the server that sent the page."""
    parts = urlsplit(url.strip())
    if not parts.scheme and not parts.netloc:
        return bool(url.strip())
    return parts.scheme in ("http", "https") and parts.netloc in OWN_HOSTS


class InertCheck(HTMLParser):
    """Collects the text a browser would show and every way the markup could run something."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.problems: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> tag")
        if tag == "script" and not _own(values.get("src") or ""):
            self.problems.append(f"inline or foreign script {values!r}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler attribute {name}={value!r} on <{tag}>")
            if name in URL_ATTRIBUTES and value:
                target = re.sub(r"[\s\x00-\x1f]", "", value).lower()
                if target.startswith(("javascript:", "vbscript:")) or (
                    target.startswith("data:") and not target.startswith("data:image/")
                ):
                    self.problems.append(f"{name}={value!r} on <{tag}>")
                linked_out = tag == "a" and name == "href" and urlsplit(target).netloc in LINK_HOSTS
                if not target.startswith("data:") and not _own(target) and not linked_out:
                    self.problems.append(f"off-site {name}={value!r} on <{tag}>")
            if value:
                self.text.append(value)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def inert_problems(html: str, needles: list[str]) -> tuple[list[str], str, list[str]]:
    """(what could run, the visible text and attribute values, the links)."""
    checker = InertCheck()
    checker.feed(html)
    checker.close()
    problems = list(checker.problems)
    for needle in needles:
        if needle in html:
            at = html.index(needle)
            problems.append(f"raw {needle!r} in the markup: …{html[max(0, at - 60):at + 60]!r}…")
    return problems, "\n".join(checker.text), checker.links


def fill(path: str, values: dict[str, list[str]]) -> Iterator[tuple[str, bool]]:
    """Concrete paths for a route template: (path, whether it must exist).

    Parameters with test data take each known value in turn (one varies, the others take their
    first), enough to reach every row without a combinatorial blow-up. A parameter nobody gave
    data for (a route added later) is still fetched, with ``1``: it may answer 404, never fail.
    """
    names = re.findall(r"\{([^}:]+)(?::[^}]*)?\}", path)
    if not names:
        yield path, True
        return
    known = [n for n in names if n in values]
    strict = len(known) == len(names)
    filled = {n: values.get(n, ["1"]) for n in names}
    for varying in names:
        for value in filled[varying]:
            concrete = path
            for name in names:
                chosen = value if name == varying else filled[name][0]
                concrete = re.sub(r"\{" + name + r"(?::[^}]*)?\}", quote(str(chosen), safe=""), concrete)
            yield concrete, strict


def get_routes(app: Any, *, include: Callable[[str], bool] = lambda _p: True) -> list[str]:
    paths = []
    for method, path in route_table(app):
        if method != "GET" or path in NOT_PAGES or path.endswith("/*") or not include(path):
            continue
        paths.append(path)
    return sorted(set(paths))


def json_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


def parse_json(body: bytes) -> Any:
    return json.loads(body)


def local_links(hrefs: list[str]) -> Iterator[str]:
    """Same-site links worth following: no sign-out, no static files, no fragments."""
    for href in hrefs:
        parts = urlsplit(href)
        if (parts.scheme or parts.netloc) and parts.netloc not in OWN_HOSTS:
            continue
        path = parts.path
        if not path.startswith("/") or path in NOT_PAGES or path.startswith("/static/"):
            continue
        yield path + (f"?{parts.query}" if parts.query else "")
