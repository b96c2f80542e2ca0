"""The web shell: app factory (app.py), auth gate (gate.py), login and tokens (auth.py), pages/
(HTML) and api/ (JSON).

Adding a page or endpoint: write a module exposing ``router`` (an APIRouter; pages pass
``include_in_schema=False``, JSON endpoints declare ``response_model=...Out``) and list it in
``app.ROUTER_MODULES``. It is behind login automatically. Pages render with
``templating.render(request, "x.html", ctx, nav="<nav key>")`` and extend ``base.html`` (blocks
``title``, ``head``, ``main_class``, ``content``, ``scripts``); forms that POST include
``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">``. Admin tabs:
``pages.admin.register_admin_tab``.
"""
