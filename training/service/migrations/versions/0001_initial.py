"""The first schema: teams, enrol codes, devices, uploads, sessions and their parts, labels, deletions.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _team_id() -> sa.Column:
    return sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False,
                     index=True)


def _session_pk(**kw) -> sa.Column:
    return sa.Column("session_pk", sa.Integer(), sa.ForeignKey("sessions.id", ondelete="CASCADE"), **kw)


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "teams", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True), _when("created_utc"))
    op.create_table(
        "enrol_codes", sa.Column("id", sa.Integer(), primary_key=True), _team_id(),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True), _when("expires_utc"),
        _when("used_utc", nullable=True))
    op.create_table(
        "devices", sa.Column("id", sa.String(36), primary_key=True), _team_id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True), _when("created_utc"),
        _when("revoked_utc", nullable=True))
    op.create_table(
        "uploads", sa.Column("id", sa.String(36), primary_key=True), _team_id(),
        sa.Column("device_id", sa.String(36), sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False), sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False), _when("created_utc"))
    op.create_table(
        "sessions", sa.Column("id", sa.Integer(), primary_key=True), _team_id(),
        sa.Column("session_id", sa.String(36), nullable=False), sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("device_id", sa.String(36), sa.ForeignKey("devices.id", ondelete="SET NULL"), nullable=True),
        sa.Column("started_wall_utc", sa.String(40), nullable=True),
        sa.Column("manifest_blob", sa.String(80), nullable=True), sa.Column("answer_json", sa.Text(), nullable=True),
        _when("lease_utc"), sa.UniqueConstraint("team_id", "session_id"))
    _session_children()


def _session_children() -> None:
    op.create_table(
        "session_parts", sa.Column("id", sa.Integer(), primary_key=True),
        _session_pk(nullable=False, index=True), _team_id(),
        sa.Column("kind", sa.String(16), nullable=False), sa.Column("name", sa.String(120), nullable=False),
        sa.Column("athlete_ref", sa.String(36), nullable=True, index=True),
        sa.Column("blob_key", sa.String(80), nullable=False), sa.Column("size_bytes", sa.BigInteger(), nullable=False))
    op.create_table(
        "session_athletes", _session_pk(primary_key=True),
        sa.Column("athlete_ref", sa.String(36), primary_key=True), _team_id())
    op.create_table(
        "label_records", _session_pk(primary_key=True), _team_id(),
        sa.Column("version", sa.Integer(), nullable=False), sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("labels_json", sa.Text(), nullable=False))
    op.create_table(
        "deletions", sa.Column("request_id", sa.String(36), primary_key=True), _team_id(),
        sa.Column("athlete_ref", sa.String(36), nullable=False),
        sa.Column("parts_erased", sa.Integer(), nullable=False), _when("done_utc"))


def downgrade() -> None:
    for table in ("deletions", "label_records", "session_athletes", "session_parts", "sessions", "uploads",
                  "devices", "enrol_codes", "teams"):
        op.drop_table(table)
