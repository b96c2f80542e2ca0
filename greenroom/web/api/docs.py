"""``GET /api/docs``: the API reference, rendered on the server from the OpenAPI document.

The usual Swagger page loads its script from a CDN and runs inline script; both are ruled out here
(offline use, and the Content-Security-Policy), so the same document is shown as plain HTML.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from greenroom.web.templating import render

router = APIRouter(include_in_schema=False)


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type_of(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list[{_type_of(schema.get('items', {}))}]"
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "any")
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    operations = []
    for path, methods in sorted(spec.get("paths", {}).items()):
        for method, op in methods.items():
            responses = []
            for code, response in sorted(op.get("responses", {}).items()):
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                responses.append({"code": code, "description": response.get("description", ""),
                                  "type": _type_of(schema) if schema else ""})
            operations.append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "parameters": [
                    {"name": p["name"], "in": p["in"], "required": p.get("required", False),
                     "type": _type_of(p.get("schema", {})), "description": p.get("description", "")}
                    for p in op.get("parameters", [])
                ],
                "responses": responses,
            })
    return operations


def _schemas(spec: dict[str, Any]) -> list[dict[str, Any]]:
    result = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        fields = [
            {"name": field, "type": _type_of(sub), "required": field in required,
             "description": sub.get("description", "")}
            for field, sub in schema.get("properties", {}).items()
        ]
        result.append({"name": name, "fields": fields})
    return result


@router.get("/api/docs")
def api_docs(request: Request) -> Response:
    spec = request.app.openapi()
    return render(request, "api_docs.html",
                  {"spec": spec, "spec_url": request.app.openapi_url, "operations": _operations(spec),
                   "schemas": _schemas(spec)}, nav=None)
