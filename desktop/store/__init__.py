"""The crash-safe local store: SQLite (WAL) for samples and events, closed video segments on disk."""

from desktop.store.models import (Athlete, AthleteNotFound, ChannelSummary, Label, SchemaTooNew, SessionDetail,
                                  SessionNotFound, SessionSummary, StoreError, UnstorableEvent,
                                  VideoSegment)
from desktop.store.store import DB_NAME, VIDEO_DIR_NAME, Store
from desktop.store.writer import StoreWriter, WriterStats

__all__ = [
    "Athlete", "AthleteNotFound", "ChannelSummary", "DB_NAME", "Label", "SchemaTooNew", "SessionDetail",
    "SessionNotFound", "SessionSummary", "Store", "StoreError", "StoreWriter", "UnstorableEvent", "VIDEO_DIR_NAME",
    "VideoSegment", "WriterStats",
]
