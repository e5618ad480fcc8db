"""TAXII 2.1 error messages (section 3.6.1) and the HTTP statuses they go with (section 3.6)."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import Request
from fastapi.responses import Response

from cyberpeace.share.taxii_config import taxii_config

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    406: "Not Acceptable",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
}


class TaxiiError(Exception):
    """A request the server refuses; becomes an error message with ``http_status``."""

    def __init__(
        self,
        http_status: int,
        description: str,
        *,
        error_code: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.http_status = http_status
        self.description = description
        self.error_code = error_code
        self.details = details
        self.headers = headers or {}

    def message(self) -> dict[str, Any]:
        """The error message resource: title, description, error_code, http_status, details."""
        body: dict[str, Any] = {
            "title": _TITLES.get(self.http_status, "Error"),
            "description": self.description,
            "error_code": self.error_code,
            "http_status": str(self.http_status),
        }
        if self.details:
            body["details"] = self.details
        return body


async def taxii_error_response(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, TaxiiError)
    return Response(
        msgspec.json.encode(exc.message()),
        status_code=exc.http_status,
        media_type=taxii_config().media_type,
        headers=exc.headers,
    )
