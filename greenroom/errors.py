"""Domain errors. Each carries the HTTP status an endpoint should answer with."""

from __future__ import annotations


class GreenroomError(Exception):
    status_code = 500
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(GreenroomError):
    code = "config_error"


class NotFound(GreenroomError):
    status_code = 404
    code = "not_found"


class BadRequest(GreenroomError):
    status_code = 400
    code = "bad_request"


class Conflict(GreenroomError):
    status_code = 409
    code = "conflict"


class Unauthorized(GreenroomError):
    status_code = 401
    code = "unauthorized"
