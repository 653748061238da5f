"""Teams, one-time enrolment codes, devices and their tokens. Only hashes of codes and tokens are kept."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from training.service.models import Device, EnrolCode, Team

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from paper
CODE_GROUPS, CODE_GROUP_CHARS = 4, 4  # 16 characters of 32 kinds: 80 bits
TOKEN_BYTES = 32


class NotFound(LookupError):
    """No such team or device (the message says which)."""


class EnrolRefused(PermissionError):
    """The enrolment code is unknown, used or expired (the same answer for all three)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """A time read back from the database as UTC (SQLite hands back naive datetimes)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def secret_hash(secret: str) -> str:
    """Tokens and codes are long random strings, so one unsalted SHA-256 is enough to keep them."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_team(db: Session, name: str) -> Team:
    name = name.strip()
    if not name:
        raise ValueError("a team needs a name")
    if db.scalar(select(Team).where(Team.name == name)) is not None:
        raise ValueError(f"a team called {name!r} already exists")
    team = Team(name=name, created_utc=utc_now())
    db.add(team)
    db.flush()
    return team


def team_by_name(db: Session, name: str) -> Team:
    team = db.scalar(select(Team).where(Team.name == name.strip()))
    if team is None:
        raise NotFound(f"no team called {name!r}")
    return team


def new_enrol_code(db: Session, team: Team, ttl_s: int) -> str:
    """A fresh one-time code for `team`; only its hash is stored."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_CHARS))
    code = "-".join(raw[i:i + CODE_GROUP_CHARS] for i in range(0, len(raw), CODE_GROUP_CHARS))
    db.add(EnrolCode(team_id=team.id, code_hash=secret_hash(normalise_code(code)),
                     expires_utc=utc_now() + timedelta(seconds=ttl_s)))
    return code


def normalise_code(code: str) -> str:
    return "".join(c for c in code.upper() if c in CODE_ALPHABET)


def enrol_device(db: Session, code: str, device_name: str) -> tuple[Device, str]:
    """Spend a code on a new device; returns it with its token (shown once, stored as a hash)."""
    now = utc_now()
    spent = db.execute(
        update(EnrolCode)
        .where(EnrolCode.code_hash == secret_hash(normalise_code(code)), EnrolCode.used_utc.is_(None),
               EnrolCode.expires_utc > now)
        .values(used_utc=now).returning(EnrolCode.team_id)).first()
    if spent is None:
        raise EnrolRefused("this enrolment code is not valid: it is unknown, already used or expired")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    device = Device(id=str(uuid.uuid4()), team_id=spent.team_id, name=device_name.strip()[:200] or "laptop",
                    token_hash=secret_hash(token), created_utc=now)
    db.add(device)
    db.flush()
    return device, token


def device_by_token(db: Session, token: str) -> Device | None:
    """The enrolled, unrevoked device holding `token`, or None."""
    device = db.scalar(select(Device).where(Device.token_hash == secret_hash(token)))
    return device if device is not None and device.revoked_utc is None else None


def revoke_device(db: Session, device_id: str, team_id: int | None = None) -> Device:
    query = select(Device).where(Device.id == device_id)
    if team_id is not None:
        query = query.where(Device.team_id == team_id)
    device = db.scalar(query)
    if device is None:
        raise NotFound(f"no device {device_id}")
    if device.revoked_utc is None:
        device.revoked_utc = utc_now()
    return device


def list_devices(db: Session, team_id: int) -> list[Device]:
    return list(db.scalars(select(Device).where(Device.team_id == team_id).order_by(Device.created_utc)))
