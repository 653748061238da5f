"""The tus-style upload: create, ask the offset, send chunks."""

from __future__ import annotations

import zlib

from fastapi import APIRouter, Header, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from cloud_client.protocol import (CHUNK_CONTENT_TYPE, HEADER_CHECKSUM, HEADER_OFFSET, HEADER_TUS, MAX_CHUNK_BYTES,
                                   STATUS_CHECKSUM_MISMATCH, TUS_VERSION, UploadCreate)
from training.service import uploads
from training.service.api.deps import CurrentDevice, DbSession, HashesDep, SettingsDep
from training.service.api.schemas import ErrorOut, UploadIn, UploadOut
from training.service.errors import ApiError, TooLarge

router = APIRouter(prefix="/uploads", tags=["upload"])
_ERRORS = {401: {"model": ErrorOut}, 404: {"model": ErrorOut}}


@router.post("", response_model=UploadOut, status_code=201,
             responses={**_ERRORS, 200: {"model": UploadOut, "description": "the session is already in"},
                        413: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def create_upload(body: UploadIn, device: CurrentDevice, db: DbSession, settings: SettingsDep,
                  response: Response) -> UploadOut:
    upload, answer = uploads.create_upload(db, settings, device, UploadCreate(**body.model_dump()))
    response.headers[HEADER_TUS] = TUS_VERSION
    if upload is None:
        response.status_code = 200
        return UploadOut(upload_id=None, offset=body.length, length=body.length, committed=answer)
    response.headers["Location"] = f"{router.prefix}/{upload.id}"
    return UploadOut(upload_id=upload.id, offset=upload.offset, length=upload.length)


@router.head("/{upload_id}", responses=_ERRORS)
def upload_offset(upload_id: str, device: CurrentDevice, db: DbSession) -> Response:
    upload = uploads.team_upload(db, device, upload_id)
    return Response(status_code=200, headers={**uploads.offset_headers(upload), HEADER_TUS: TUS_VERSION,
                                              "Cache-Control": "no-store"})


@router.patch("/{upload_id}", status_code=204,
              responses={**_ERRORS, 409: {"model": ErrorOut, "description": "the offset is not the server's"},
                         413: {"model": ErrorOut},
                         STATUS_CHECKSUM_MISMATCH: {"model": ErrorOut, "description": "checksum mismatch"}})
async def send_chunk(upload_id: str, request: Request, device: CurrentDevice, db: DbSession, settings: SettingsDep,
                     hashes: HashesDep,
                     upload_offset: int = Header(alias=HEADER_OFFSET, ge=0),
                     upload_checksum: str = Header(alias=HEADER_CHECKSUM, description="crc32 or sha256, a space, the base64 digest"),
                     content_type: str = Header(alias="Content-Type")) -> Response:
    if content_type != CHUNK_CONTENT_TYPE:
        raise ApiError(f"a chunk is sent as {CHUNK_CONTENT_TYPE}", code="bad_content_type")
    chunk, crc32 = await _read_capped(request)
    upload = await run_in_threadpool(uploads.append_chunk, db, settings, hashes, device, upload_id, upload_offset,
                                     upload_checksum, chunk, crc32)
    return Response(status_code=204, headers={**uploads.offset_headers(upload), HEADER_TUS: TUS_VERSION})


async def _read_capped(request: Request) -> tuple[bytearray | bytes, int]:
    """The chunk's bytes (at most MAX_CHUNK_BYTES) and their CRC-32, computed as they arrive.

    Read into one buffer of the declared size (no regrowing, no copy afterwards)."""
    declared = request.headers.get("Content-Length")
    size = int(declared) if declared is not None and declared.isdigit() else None
    if size is not None and size > MAX_CHUNK_BYTES:
        raise TooLarge(f"a chunk may be at most {MAX_CHUNK_BYTES} bytes")
    try:
        return await (_read_sized(request, size) if size is not None else _read_unsized(request))
    except ClientDisconnect:  # the network cut the chunk short: nothing was written, the offset stays
        raise ApiError("the connection closed before the chunk was complete", code="chunk_cut") from None


async def _read_sized(request: Request, size: int) -> tuple[bytearray, int]:
    received, filled, crc32 = bytearray(size), 0, 0
    view = memoryview(received)
    async for piece in request.stream():
        if filled + len(piece) > size:
            raise ApiError("the body is longer than its Content-Length", code="bad_length")
        view[filled:filled + len(piece)] = piece
        crc32 = zlib.crc32(piece, crc32)
        filled += len(piece)
    if filled != size:
        raise ApiError("the connection closed before the chunk was complete", code="chunk_cut")
    return received, crc32  # not copied to bytes: sha256 and write take it as it is


async def _read_unsized(request: Request) -> tuple[bytes, int]:
    pieces, total = [], 0
    async for piece in request.stream():
        pieces.append(piece)
        total += len(piece)
        if total > MAX_CHUNK_BYTES:
            raise TooLarge(f"a chunk may be at most {MAX_CHUNK_BYTES} bytes")
    chunk = b"".join(pieces)
    return chunk, zlib.crc32(chunk)
