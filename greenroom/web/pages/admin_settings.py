"""Admin › Settings: the owner's settings (validated, stored in the database over the environment's
defaults; API keys write-only), the exclusion list and the alert rules."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from greenroom.errors import BadRequest
from greenroom.prefs import service as prefs
from greenroom.sessions import exclusions as sessions_exclusions
from greenroom.visits import alerts
from greenroom.visits.models import ALERT_KINDS
from greenroom.web.pages.admin import ADMIN_TABS, AdminTab, register_admin_tab
from greenroom.web.templating import now, render

router = APIRouter(include_in_schema=False)
PROVIDER_LABELS = {"offline": "Built-in (offline, no key)", "anthropic": "Anthropic", "openai": "OpenAI-compatible",
                   "off": "Off (no summaries)"}


def exclusions_module() -> Any:
    # Through sessions: changing the list must also mark the affected sessions' stats stale.
    return sessions_exclusions


def base_settings(request: Request) -> Any:
    """The environment's settings, as the app started with them (kept aside once we overlay)."""
    state = request.app.state
    if not hasattr(state, "env_settings"):
        state.env_settings = state.settings
    return state.env_settings


def settings_context(request: Request, *, values: dict[str, Any] | None = None,
                     errors: dict[str, str] | None = None) -> dict[str, Any]:
    with request.app.state.database.read() as db:
        current = prefs.public_view(db, base_settings(request))
        excluded = exclusions_module().list_exclusions(db)
        rules = [alerts.rule_json(r) for r in alerts.list_rules(db)]
    shown = {**current, **{k: v for k, v in (values or {}).items() if k not in prefs.SECRET_KEYS}}
    return {
        "fields": prefs.FIELDS, "values": shown, "keys": {k: current[k] for k in prefs.SECRET_KEYS},
        "errors": errors or {}, "providers": PROVIDER_LABELS, "excluded": excluded, "rules": rules,
        "alert_kinds": [(k, alerts.LABELS.get(k, k)) for k in ALERT_KINDS],
        "saved": request.query_params.get("saved") == "1", "notice": request.query_params.get("notice", ""),
    }


register_admin_tab(AdminTab("settings", "Settings", "admin/settings.html", settings_context))


@router.post("/admin/settings")
async def save_settings(request: Request) -> Response:
    form = await request.form()
    changes = {k: str(form.get(k, "")) for k in prefs.FIELDS if k in form}
    clear = tuple(k for k in prefs.SECRET_KEYS if form.get(f"clear_{k}") == "1")
    clean, errors = prefs.validate(changes)
    if errors:
        tab = next(t for t in ADMIN_TABS if t.key == "settings")
        context = {**settings_context(request, values=changes, errors=errors), "tabs": ADMIN_TABS, "tab": tab}
        return render(request, "admin/index.html", context, nav="admin", status_code=400)
    with request.app.state.database.write() as db:
        prefs.save(db, clean, now(request), clear_keys=clear)
        # This process picks the new values up at once (time zone, merge window for manual edits);
        # workers read them at the start of every job.
        request.app.state.settings = prefs.effective(db, base_settings(request))
    return RedirectResponse("/admin?tab=settings&saved=1", status_code=303)


def _back(notice: str) -> Response:
    from urllib.parse import quote

    return RedirectResponse(f"/admin?tab=settings&notice={quote(notice)}#exclusions", status_code=303)


@router.post("/admin/exclusions")
def change_exclusions(request: Request, action: str = Form(...), username: str = Form(...)) -> Response:
    module = exclusions_module()
    with request.app.state.database.write() as db:
        if action == "add":
            module.add_exclusion(db, username, now(request))
        elif action == "remove":
            module.remove_exclusion(db, username)
        else:
            raise BadRequest(f"unknown action {action!r}")
    verb = "excluded" if action == "add" else "counted again"
    return _back(f"{username.strip().lower()} is {verb} from now on; Rebuild (Data tab) applies it to past sessions.")


@router.post("/admin/alerts")
def change_alerts(request: Request, action: str = Form(...), kind: str = Form(default=""),
                  threshold: str = Form(default="0"), sound: str = Form(default=""),
                  rule_id: int = Form(default=0)) -> Response:
    with request.app.state.database.write() as db:
        if action == "add":
            try:
                value = int(threshold.strip() or "0")
            except ValueError:
                raise BadRequest("the threshold is a whole number of tokens") from None
            alerts.add_rule(db, kind, value, now(request), sound=sound == "1")
        elif action in ("enable", "disable"):
            alerts.set_rule_enabled(db, rule_id, action == "enable")
        else:
            raise BadRequest(f"unknown action {action!r}")
    return RedirectResponse("/admin?tab=settings&notice=Alert+rules+saved.#alerts", status_code=303)

