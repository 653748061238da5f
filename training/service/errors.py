"""The service's refusals: each is an HTTP status, a short machine code and a sentence for people."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from cloud_client.protocol import STATUS_CHECKSUM_MISMATCH


class ApiError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, headers: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.headers = headers or {}
        if code is not None:
            self.code = code


class Unauthorised(ApiError):
    status_code, code = 401, "unauthorised"


class NotFound(ApiError):
    """Also the answer for another team's objects: their existence is not disclosed."""

    status_code, code = 404, "not_found"


class Conflict(ApiError):
    status_code, code = 409, "conflict"


class TooLarge(ApiError):
    status_code, code = 413, "too_large"


class Unprocessable(ApiError):
    status_code, code = 422, "unprocessable"


class ChecksumMismatch(ApiError):
    status_code, code = STATUS_CHECKSUM_MISMATCH, "checksum_mismatch"


async def api_error_handler(_request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse({"error": exc.code, "detail": str(exc)}, status_code=exc.status_code, headers=exc.headers)
