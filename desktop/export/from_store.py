"""Export a stored session: read it from the store into an `ExportSession`, then write files.

`trackside sessions export ID --format csv|tcx|fit --out FOLDER` lands here. CSV and TCX give one
file for the whole squad; FIT gives one file per athlete (channel) with heart rate.
"""

from __future__ import annotations

import re
from datetime import timezone
from pathlib import Path

from desktop.export.csv_export import export_csv
from desktop.export.fit_export import export_fit
from desktop.export.session import ExportAthlete, ExportError, ExportSession
from desktop.export.tcx_export import export_tcx

EXPORT_FORMATS = ("csv", "tcx", "fit")
LAP_MARKER_KINDS = ("lap",)  # markers that start a new lap in TCX and FIT exports
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")  # BLE addresses carry ':'


def session_from_store(store, session_id: str) -> ExportSession:
    """The session as plain data: each channel's samples and lap marks (squad-wide marks included)."""
    detail = store.session(session_id)
    started_wall_utc = detail.started_wall_utc
    if started_wall_utc.tzinfo is None:
        started_wall_utc = started_wall_utc.replace(tzinfo=timezone.utc)  # the store writes UTC
    markers = [m for m in store.markers(detail.id) if m.kind in LAP_MARKER_KINDS]
    athletes = []
    for channel in detail.channels:
        laps = [m.t_mono_s for m in markers if m.channel in (None, channel.channel)]
        samples = store.hr_samples(detail.id, channel.channel)
        athletes.append(ExportAthlete(channel.channel, channel.display_name, samples, laps, detail.started_mono_s))
    return ExportSession(detail.id, started_wall_utc, athletes)


def export_session(store, session_id: str, fmt: str, out_dir: Path) -> list[Path]:
    """Write a stored session in `fmt` ("csv", "tcx" or "fit") under `out_dir`; the files written."""
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    session = session_from_store(store, session_id)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"--out {out_dir} is a file: name a folder for the exported files")
    try:
        return _write(session, fmt, out_dir)
    except OSError as exc:  # a folder that cannot be created or written (permissions, full disk)
        raise ExportError(f"cannot write the export into {out_dir}: {exc.strerror or exc}") from exc


def _write(session: ExportSession, fmt: str, out_dir: Path) -> list[Path]:
    if fmt == "csv":
        return [export_csv(session, out_dir / f"{session.session_id}.csv")]
    if fmt == "tcx":
        return [export_tcx(session, out_dir / f"{session.session_id}.tcx")]
    with_samples = [a for a in session.athletes if a.samples]
    if not with_samples:
        raise ExportError(f"session {session.session_id} has no heart rate to export as FIT (no strap delivered "
                          "a sample, or the athletes' heart rate was not stored)")
    return [export_fit(session, out_dir / _fit_name(session.session_id, a.channel), a.channel) for a in with_samples]


def _fit_name(session_id: str, channel: str) -> str:
    return f"{session_id}-{_UNSAFE_IN_FILE_NAME.sub('_', channel)}.fit"
