"""What the review view shows of one session, read from the store in one go (no Qt here).

`load_review` opens its own connection to the data directory, so a worker thread can call it while
the window keeps its own; the view then only draws what it gets. Times are seconds from the
session's start (what the coach sees on the timeline); `to_mono_s` turns them back for the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop.sources.camera.base import CAMERA_CHANNEL
from desktop.store import Label, SessionDetail, SessionSummary, Store, VideoSegment
from edge_models.manifest import load_manifest
from edge_models.model_store import BUNDLED_MODELS_DIR, MANIFEST_FILE

WORK_REST_KINDS = ("work", "rest")  # coach (or timer) marks that start a work or a rest phase
LAP_KIND = "lap"
TIMELINE_FEEDBACK_KINDS = ("movement", "unusual_response")  # per-frame poses and forecasts stay off the line
WORK_REST_LABELS = ("work", "rest")  # the other label set the learning loop takes


@dataclass(frozen=True)
class HeartRateTrace:
    """One athlete's heart rate over the session."""

    channel: str
    name: str
    t_s: np.ndarray
    hr_bpm: np.ndarray


@dataclass(frozen=True)
class Span:
    """A stretch of the timeline: a work or rest phase, a run of one movement class, a label."""

    start_s: float
    end_s: float
    text: str
    channel: str | None = None
    label_id: int | None = None
    labelled_by: str = ""


@dataclass(frozen=True)
class Moment:
    """One instant on the timeline: a lap, a note, an unusual heart-rate response."""

    t_s: float
    kind: str
    text: str
    channel: str | None = None


@dataclass
class SessionReview:
    """Everything the review view draws for one session."""

    detail: SessionDetail
    traces: list[HeartRateTrace]
    phases: list[Span]  # work and rest
    movement: list[Span]  # what the movement model saw, run by run
    labels: list[Span]
    moments: list[Moment]  # laps, notes, unusual responses
    segments: list[VideoSegment]
    segment_dir: Path  # the data directory the segments' paths start from
    channel_names: dict[str, str] = field(default_factory=dict)
    duration_s: float = 0.0  # the timeline's length: the session, or its last sample or frame if later

    def to_mono_s(self, t_s: float) -> float:
        return self.detail.started_mono_s + t_s


@dataclass(frozen=True)
class SessionRow:
    """A row of the session list."""

    summary: SessionSummary
    label_count: int

    @property
    def has_video(self) -> bool:
        return self.summary.video_segment_count > 0


def movement_classes(bundled_dir: Path = BUNDLED_MODELS_DIR) -> tuple[str, ...]:
    """The team's movement classes: the labels of the bundled movement model, in its order."""
    path = bundled_dir / "movement" / MANIFEST_FILE
    return load_manifest(path).labels if path.is_file() else ()


def load_session_rows(data_dir: Path) -> list[SessionRow]:
    with Store.open(data_dir) as store:
        return [SessionRow(s, len(store.labels(s.id))) for s in store.list_sessions()]


def load_review(data_dir: Path, session_id: str) -> SessionReview:
    """Read one session for review (opens and closes its own store connection)."""
    with Store.open(data_dir) as store:
        detail = store.session(session_id)
        start = detail.started_mono_s
        traces = [_trace(store, detail.id, c.channel, c.display_name, start) for c in detail.channels]
        segments = store.video_segments(detail.id)
        end_s = _timeline_end_s(detail, traces, segments)
        markers = store.markers(detail.id)
        feedback = store.feedback_events(detail.id, kinds=TIMELINE_FEEDBACK_KINDS)
        return SessionReview(
            detail=detail, traces=traces, phases=_phases(markers, start, end_s),
            movement=_movement_runs(feedback, start, end_s), labels=labels_as_spans(store.labels(detail.id), start),
            moments=_moments(markers, feedback, start), segments=segments, segment_dir=store.data_dir,
            channel_names={c.channel: c.display_name for c in detail.channels}, duration_s=end_s)


def _timeline_end_s(detail: SessionDetail, traces: list[HeartRateTrace], segments: list[VideoSegment]) -> float:
    """The session's length; a replay played flat out may stamp samples past the moment it was stopped."""
    ends = [detail.duration_s] + [float(t.t_s[-1]) for t in traces if len(t.t_s)]
    ends += [s.end_mono_s - detail.started_mono_s for s in segments]
    return max(ends)


def labels_as_spans(labels: list[Label], started_mono_s: float) -> list[Span]:
    return [Span(l.start_mono_s - started_mono_s, l.end_mono_s - started_mono_s, l.label, l.channel, l.id,
                 l.labelled_by) for l in labels]


def _trace(store: Store, session_id: str, channel: str, name: str, start: float) -> HeartRateTrace:
    samples = store.hr_samples(session_id, channel)
    t_s = np.fromiter((s.t_mono_s - start for s in samples), dtype=np.float64, count=len(samples))
    hr = np.fromiter((s.hr_bpm for s in samples), dtype=np.float64, count=len(samples))
    return HeartRateTrace(channel, name, t_s, hr)


def _phases(markers, start: float, end_s: float) -> list[Span]:
    """Each squad-wide work or rest mark holds until the next one (or the session's end)."""
    marks = [m for m in markers if m.kind in WORK_REST_KINDS and m.channel is None]
    ends = [m.t_mono_s - start for m in marks[1:]] + [end_s]
    return [Span(m.t_mono_s - start, max(m.t_mono_s - start, e), m.kind) for m, e in zip(marks, ends)]


def _movement_runs(feedback, start: float, end_s: float) -> list[Span]:
    """The movement model's class, merged into runs of the same class."""
    runs: list[Span] = []
    for event in (f for f in feedback if f.kind == "movement"):
        label, t_s = str(event.payload.get("label", "?")), event.t_mono_s - start
        if runs and runs[-1].text == label:
            continue
        if runs:
            runs[-1] = Span(runs[-1].start_s, t_s, runs[-1].text)
        runs.append(Span(t_s, t_s, label))
    if runs:
        runs[-1] = Span(runs[-1].start_s, max(runs[-1].start_s, end_s), runs[-1].text)
    return runs


def _moments(markers, feedback, start: float) -> list[Moment]:
    found = [Moment(m.t_mono_s - start, m.kind, m.text, m.channel) for m in markers
             if m.kind not in WORK_REST_KINDS]
    for event in feedback:
        if event.kind == "unusual_response" and event.channel != CAMERA_CHANNEL:
            text = f"HR {event.payload.get('observed_bpm', '?')} vs forecast {event.payload.get('forecast_bpm', '?')}"
            found.append(Moment(event.t_mono_s - start, event.kind, text, event.channel))
    return sorted(found, key=lambda m: m.t_s)
