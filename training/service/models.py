"""The service's tables (SQLAlchemy 2). Every row that belongs to a team carries its team_id.

The schema itself is made by the Alembic migrations in `migrations/versions/`; these classes must
match them (tests/training/service/test_migrations.py compares the two).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EnrolCode(Base):
    """A one-time code: only its hash is kept; used_utc is set by the one enrolment it allows."""

    __tablename__ = "enrol_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Device(Base):
    """A laptop of a team; its token is kept only as a hash, and revoking it ends its access."""

    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Upload(Base):
    """A resumable upload in progress: `offset` bytes of `length` are durable in the upload folder."""

    __tablename__ = "uploads"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(String(36))
    length: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    created_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CloudSession(Base):
    """A session as the cloud holds it; `state` is 'committing' while its one commit runs."""

    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("team_id", "session_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(String(36))
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    started_wall_utc: Mapped[str | None] = mapped_column(String(40))
    manifest_blob: Mapped[str | None] = mapped_column(String(80))
    answer_json: Mapped[str | None] = mapped_column(Text)
    lease_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SessionPart(Base):
    """One stored piece of a session: an athlete's data ('athlete') or a video segment ('video')."""

    __tablename__ = "session_parts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_pk: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    athlete_ref: Mapped[str | None] = mapped_column(String(36), index=True)
    blob_key: Mapped[str] = mapped_column(String(80))
    size_bytes: Mapped[int] = mapped_column(BigInteger)


class SessionAthlete(Base):
    """Who was on a session (also when their data was left out or erased): what deletion looks up."""

    __tablename__ = "session_athletes"
    session_pk: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    athlete_ref: Mapped[str] = mapped_column(String(36), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)


class LabelRecord(Base):
    """The latest version of a session's labels, sent after the session itself."""

    __tablename__ = "label_records"
    session_pk: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    labels_json: Mapped[str] = mapped_column(Text)


class Deletion(Base):
    """An athlete's erasure, done once and confirmed again to every replay of the same request."""

    __tablename__ = "deletions"
    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    athlete_ref: Mapped[str] = mapped_column(String(36))
    parts_erased: Mapped[int] = mapped_column(Integer)
    done_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
