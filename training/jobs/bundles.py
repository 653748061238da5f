"""The adapter from the service's stored session bundles to the job's `SessionRecord`.

A bundle (desktop/sync/bundle.py, cloud_client.protocol) is a manifest and one JSON part per
athlete. The manifest names the session (`id`, `started_mono_s`), its athletes (`ref`,
`channel`, `part`), the coach's marks (`t_mono_s`, `kind`, `channel`) and labels (`start_mono_s`,
`end_mono_s`, `label`, `channel`); an athlete part holds `samples` as columns (`t_mono_s`,
`hr_bpm`, `speed_mps`, `power_w`, `cadence_rpm`; null where a value was absent). The service
reads the blobs; this function only turns what it read into the record a job uses.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from training.jobs.sessions import (WORK_REST_KINDS, AthleteRecord, ChannelSeries, CoachLabel, SessionRecord,
                                    WorkRestMark)


def record_from_bundle(manifest: dict, athlete_parts: dict[str, dict], training_consent: Callable[[str], bool],
                       labels: list[dict] | None = None, uploaded_utc: str = "") -> SessionRecord:
    """One stored session as a record. `athlete_parts` maps a part name to its parsed JSON (an
    erased athlete's part is simply absent); `labels`, when given, are the latest label record
    sent after the session and replace the bundle's own."""
    session = manifest["session"]
    start_s = float(session["started_mono_s"])
    channels = tuple(_series(a, athlete_parts[a["part"]], training_consent, start_s)
                     for a in manifest["athletes"] if a["part"] in athlete_parts)
    marks = tuple(WorkRestMark(m["t_mono_s"] - start_s, m["kind"], m.get("channel"))
                  for m in manifest.get("marks", []) if m["kind"] in WORK_REST_KINDS)
    chosen = manifest.get("labels", []) if labels is None else labels
    coach = tuple(CoachLabel(lb["start_mono_s"] - start_s, lb["end_mono_s"] - start_s, lb["label"],
                             lb.get("channel")) for lb in chosen)
    return SessionRecord(session["id"], tuple(c for c in channels if len(c.time_s)), marks, coach,
                         uploaded_utc or session.get("started_wall_utc", ""))


def _series(athlete: dict, part: dict, training_consent: Callable[[str], bool], start_s: float) -> ChannelSeries:
    samples = part["samples"]
    return ChannelSeries(
        athlete["channel"], AthleteRecord(athlete["ref"], bool(training_consent(athlete["ref"]))),
        time_s=_floats(samples["t_mono_s"]) - start_s, hr_bpm=_floats(samples["hr_bpm"]),
        speed_mps=_optional(samples.get("speed_mps")), power_w=_optional(samples.get("power_w")),
        cadence_rpm=_optional(samples.get("cadence_rpm")))


def _floats(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _optional(values: list | None) -> np.ndarray | None:
    return None if values is None or all(v is None for v in values) else _floats(values)
