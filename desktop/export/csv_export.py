"""Export a session as CSV: one row per heart-rate sample, all athletes, in time order."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from edge_models.durable import write_file_atomically
from desktop.export.session import ExportSession, check_session, ordered_samples, wall_time

CSV_COLUMNS = ("wall_time_utc", "t_s", "channel", "athlete", "hr_bpm", "rr_s", "speed_mps", "power_w",
               "cadence_rpm")
RR_SEPARATOR = " "  # RR intervals of one notification, oldest first, in seconds


def export_csv(session: ExportSession, path: Path) -> Path:
    """Write the session to `path` as CSV (columns in `CSV_COLUMNS`); returns the path."""
    check_session(session)
    rows = []
    for athlete in session.athletes:
        for sample in ordered_samples(athlete):
            rows.append((sample.t_mono_s - athlete.started_mono_s, _row(session, athlete, sample)))
    rows.sort(key=lambda pair: pair[0])
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(row for _, row in rows)
    return write_file_atomically(Path(path), buffer.getvalue().encode("utf-8"))


def _row(session, athlete, sample) -> list[str]:
    return [
        wall_time(session, athlete, sample.t_mono_s).isoformat(timespec="milliseconds"),
        f"{sample.t_mono_s - athlete.started_mono_s:.3f}",
        athlete.channel,
        athlete.name,
        str(sample.hr_bpm),
        RR_SEPARATOR.join(repr(float(rr)) for rr in sample.rr_intervals_s),
        _optional(sample.speed_mps),
        _optional(sample.power_w),
        _optional(sample.cadence_rpm),
    ]


def _optional(value: float | None) -> str:
    return "" if value is None else repr(float(value))
