"""Export a session as TCX (Garmin Training Center Database v2): one Activity per athlete.

Each athlete's samples become Trackpoints (Time, HeartRateBpm, Cadence, and speed and power in
the ActivityExtension TPX element), grouped into Laps at the coach's lap marks. The athlete's name
and channel go in the Activity's Notes. Element order follows the TCX v2 schema.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

from edge_models.durable import write_file_atomically
from desktop.export.session import ExportAthlete, ExportSession, check_session, laps_of, wall_time

TCX_NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
TPX_NS = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{TCX_NS} http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd"
TCX_SPORT = "Other"  # TCX knows Running, Biking and Other; a squad session is "Other"
MAX_TCX_CADENCE_RPM = 254  # the schema's CadenceValue_t upper bound


def _tag(name: str) -> str:
    return f"{{{TCX_NS}}}{name}"


def _sub(parent: ET.Element, name: str, text: str | None = None, ns: str = TCX_NS) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ns}}}{name}")
    if text is not None:
        element.text = text
    return element


def tcx_time(moment: datetime) -> str:
    """A TCX xsd:dateTime in UTC with milliseconds, e.g. 2024-05-01T10:00:00.000Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def export_tcx(session: ExportSession, path: Path) -> Path:
    """Write the session to `path` as TCX, one Activity per athlete with samples; returns the path."""
    check_session(session)
    ET.register_namespace("", TCX_NS)
    ET.register_namespace("tpx", TPX_NS)
    ET.register_namespace("xsi", XSI_NS)
    root = ET.Element(_tag("TrainingCenterDatabase"), {f"{{{XSI_NS}}}schemaLocation": SCHEMA_LOCATION})
    activities = _sub(root, "Activities")
    for athlete in session.athletes:
        if athlete.samples:
            _add_activity(activities, session, athlete)
    ET.indent(root)
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return write_file_atomically(Path(path), data)


def _add_activity(parent: ET.Element, session: ExportSession, athlete: ExportAthlete) -> None:
    activity = _sub(parent, "Activity")
    activity.set("Sport", TCX_SPORT)
    laps = laps_of(athlete)
    _sub(activity, "Id", tcx_time(wall_time(session, athlete, laps[0].start_mono_s)))
    for lap in laps:
        _add_lap(activity, session, athlete, lap)
    _sub(activity, "Notes", f"{athlete.name} ({athlete.channel}), session {session.session_id}")


def _add_lap(parent: ET.Element, session, athlete, lap) -> None:
    element = _sub(parent, "Lap")
    element.set("StartTime", tcx_time(wall_time(session, athlete, lap.start_mono_s)))
    _sub(element, "TotalTimeSeconds", f"{lap.end_mono_s - lap.start_mono_s:.3f}")
    _sub(element, "DistanceMeters", "0")
    _sub(element, "Calories", "0")
    hr_values = [s.hr_bpm for s in lap.samples]
    if hr_values:
        _sub(_sub(element, "AverageHeartRateBpm"), "Value", str(round(sum(hr_values) / len(hr_values))))
        _sub(_sub(element, "MaximumHeartRateBpm"), "Value", str(max(hr_values)))
    _sub(element, "Intensity", "Active")
    _sub(element, "TriggerMethod", "Manual")
    if lap.samples:
        track = _sub(element, "Track")
        for sample in lap.samples:
            _add_trackpoint(track, wall_time(session, athlete, sample.t_mono_s), sample)


def _add_trackpoint(track: ET.Element, moment: datetime, sample) -> None:
    point = _sub(track, "Trackpoint")
    _sub(point, "Time", tcx_time(moment))
    _sub(_sub(point, "HeartRateBpm"), "Value", str(int(sample.hr_bpm)))
    if sample.cadence_rpm is not None:
        _sub(point, "Cadence", str(min(MAX_TCX_CADENCE_RPM, round(sample.cadence_rpm))))
    if sample.speed_mps is None and sample.power_w is None:
        return
    tpx = _sub(_sub(point, "Extensions"), "TPX", ns=TPX_NS)
    if sample.speed_mps is not None:
        _sub(tpx, "Speed", f"{sample.speed_mps:.3f}", ns=TPX_NS)
    if sample.power_w is not None:
        _sub(tpx, "Watts", str(round(sample.power_w)), ns=TPX_NS)
