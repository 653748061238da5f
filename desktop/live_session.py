"""One live session as the window runs it, without Qt: sources, recorder, feedback, replay taps.

The window creates a `LiveSession` per Start and stops it on Stop; it never reaches into the
recorder. What the window reads from here:
- `latest_frame()`: the newest camera frame for display (a one-slot handoff, never a queue);
- `ring`, `poses`, `segments`: instant replay (desktop.replay_buffer);
- `status()`: camera fps, feedback load, dropped frames, disk use of the session.
Recorder events reach the window through the `listener` given here (the Qt bridge).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from desktop.feedback.latest import LatestSlot
from desktop.recorder import AthleteProfile, Recorder, RecordingSummary
from desktop.replay_buffer import FrameRing, GrabTimes, PoseHistory, SegmentLibrary, SegmentSpan, StillFrame, display_image
from desktop.sources.camera.base import Frame
from desktop.sources.events import Marker
from desktop.sources.pausable import PausableSource
from desktop.store import Store
from edge_models.features.plan import IntervalPlan

logger = logging.getLogger(__name__)

FPS_WINDOW_FRAMES = 60  # camera fps is measured over the last 60 frames
LOAD_SMOOTHING = 0.1  # weight of the newest processing time in the feedback load
DISK_POLL_S = 1.0  # how often the session's disk use is summed


@dataclass(frozen=True)
class LiveSources:
    """What to record from, as the coach gave it (specs), and where."""

    data_dir: Path
    hr_specs: tuple[str, ...] = ()
    camera_spec: str | None = None
    athletes: tuple[str, ...] = ()  # CHANNEL=NAME assignments
    feedback: bool = True
    pausable: tuple[int, ...] = ()  # heart-rate sources (by index) opened pausable (demos, tests)
    embedded_cloud: bool = False  # `make run`: the cloud service on loopback beside the window


@dataclass(frozen=True)
class LiveStatus:
    camera_fps: float
    feedback_load: float | None  # pose processing time over the frame interval (1.0: just keeping up)
    frames_dropped_video: int  # frames the disk could not keep up with
    frames_dropped_feedback: int  # frames the pose model skipped (it works on the newest)
    disk_bytes: int


class FrameTap:
    """A recorder worker that sees every camera frame on the camera thread: it scales the frame
    for display once, puts it in the one-slot handoff and in the replay ring, and counts fps."""

    def __init__(self, ring: FrameRing, grabbed: GrabTimes):
        self.ring = ring
        self.grabbed = grabbed
        self._slot: LatestSlot[StillFrame] = LatestSlot()
        self._times: deque[float] = deque(maxlen=FPS_WINDOW_FRAMES)
        self.frames_seen = 0

    def start(self) -> None:
        pass  # works on the camera's thread

    def stop(self) -> None:
        self._slot.close()

    def offer(self, frame: Frame) -> None:
        still = StillFrame(frame.t_mono_s, display_image(frame.image))
        self._slot.offer(still)
        self.ring.append(still)
        self.grabbed.add(frame.t_mono_s)
        self._times.append(frame.t_mono_s)
        self.frames_seen += 1

    def latest(self) -> StillFrame | None:
        """The newest frame not yet taken, or None (never waits)."""
        return self._slot.take(0)

    @property
    def fps(self) -> float:
        times = list(self._times)
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])


class LiveSession:
    """A recording started from the window, with what the live screen and replay read."""

    def __init__(self, sources: LiveSources, *, listener: Callable[[object], None],
                 clock: Callable[[], float] = time.monotonic):
        self.sources = sources
        self.clock = clock
        self.ring = FrameRing()
        self.poses = PoseHistory()
        self.grabbed = GrabTimes()
        self.frame_tap = FrameTap(self.ring, self.grabbed)
        self.feedback_notes: list[str] = []
        self._load: float | None = None
        self._poses_found = 0
        self._disk_bytes = 0
        self._stop_disk = threading.Event()
        self._disk_thread: threading.Thread | None = None
        self.profiles: dict[str, AthleteProfile] = {}
        self.recorder = self._build_recorder(listener)
        self.segments = SegmentLibrary(self._closed_segments, grabbed=self.grabbed)

    # -- building -------------------------------------------------------------------------
    def _build_recorder(self, listener: Callable[[object], None]) -> Recorder:
        from desktop.sources.camera import open_camera
        from desktop.sources.heart_rate import open_heart_rate_source

        data_dir = self.sources.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        hr_sources = [open_heart_rate_source(spec, clock=self.clock) for spec in self.sources.hr_specs]
        hr_sources = [PausableSource(s) if i in self.sources.pausable else s for i, s in enumerate(hr_sources)]
        camera = open_camera(self.sources.camera_spec, clock=self.clock) if self.sources.camera_spec else None
        self.profiles = {**simulated_profiles(hr_sources), **assigned_profiles(data_dir, self.sources.athletes)}
        recorder = Recorder(data_dir, hr_sources, camera, clock=self.clock,
                            athletes={c: p for c, p in self.profiles.items() if p.athlete_id is not None},
                            listeners=[listener])
        if camera is not None:
            recorder.add_worker(self.frame_tap)
        if self.sources.feedback:
            from desktop.feedback import attach_feedback
            from desktop.sync.model_updates import live_failure_handler

            self.feedback_notes = attach_feedback(recorder, data_dir, camera=camera is not None,
                                                  on_pose=self._on_pose,
                                                  on_live_failure=live_failure_handler(data_dir))
        return recorder

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> str:
        session_id = self.recorder.start()
        self.segments.start()
        self._disk_thread = threading.Thread(target=self._watch_disk, name="session-disk-use", daemon=True)
        self._disk_thread.start()
        return session_id

    def stop(self) -> RecordingSummary:
        self._stop_disk.set()
        if self._disk_thread is not None:
            self._disk_thread.join()
        self.segments.stop()
        return self.recorder.stop()

    @property
    def session_id(self) -> str | None:
        return self.recorder.session_id

    @property
    def started_mono_s(self) -> float:
        return self.recorder.started_mono_s

    # -- what the coach does --------------------------------------------------------------
    def mark(self, kind: str, text: str = "", channels: Sequence[str | None] = (None,),
             t_mono_s: float | None = None) -> float:
        """Put a mark on the session (now, or at `t_mono_s`), one per channel given (None: the
        squad); returns its time."""
        t = self.clock() if t_mono_s is None else t_mono_s
        for channel in channels:
            self.recorder.post(Marker(t, kind, text, channel))
        return t

    def plan_intervals(self, marks: Sequence[tuple[float, str]] | None) -> None:
        """Tell the heart-rate model the coach's plan: every (time, "work"|"rest") of the running
        interval timer, future ones included; None when the timer stops (forecasts go on unplanned)."""
        plan = None if marks is None else IntervalPlan.from_marks(marks)
        for worker in self.recorder.workers:
            if hasattr(worker, "set_plan"):
                worker.set_plan(plan)

    # -- what the window reads ------------------------------------------------------------
    def pause_source(self, index: int) -> None:
        """Withhold a pausable heart-rate source's events (its strap goes quiet, its link stays)."""
        source = self.recorder.hr_sources[index]
        if not isinstance(source, PausableSource):
            raise ValueError(f"heart-rate source {index} was not opened pausable")
        source.pause()

    def latest_frame(self) -> StillFrame | None:
        return self.frame_tap.latest()

    def status(self) -> LiveStatus:
        skipped = self.frame_tap.frames_seen - self._poses_found if self._poses_found else 0
        return LiveStatus(
            camera_fps=self.frame_tap.fps, feedback_load=self._feedback_load(),
            frames_dropped_video=self.recorder.frames_dropped, frames_dropped_feedback=max(0, skipped - 1),
            disk_bytes=self._disk_bytes)

    def _feedback_load(self) -> float | None:
        fps = self.frame_tap.fps
        return None if self._load is None or fps <= 0 else self._load * fps

    # -- worker threads -------------------------------------------------------------------
    def _on_pose(self, frame: Frame, pose, processing_s: float) -> None:
        """On the video feedback thread: keep the pose for the skeleton and the load figure."""
        self._poses_found += 1
        height, width = frame.image.shape[:2]
        self.poses.add(frame.t_mono_s, None if pose is None else pose.landmarks, (width, height))
        self._load = processing_s if self._load is None else (
            (1 - LOAD_SMOOTHING) * self._load + LOAD_SMOOTHING * processing_s)

    def _watch_disk(self) -> None:
        folder = self.sources.data_dir / "video" / str(self.session_id)
        while not self._stop_disk.wait(DISK_POLL_S):
            try:
                self._disk_bytes = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
            except OSError:
                pass  # the folder appears with the first segment

    def _closed_segments(self) -> list[SegmentSpan]:
        """On the replay loader's thread: the session's closed segments from the store."""
        with Store.open(self.sources.data_dir) as store:
            return [SegmentSpan(store.segment_file(s), s.start_mono_s, s.end_mono_s, s.frame_count)
                    for s in store.video_segments(self.session_id)]


def simulated_profiles(hr_sources) -> dict[str, AthleteProfile]:
    """A simulated athlete's HRmax and HRrest are known: its tile gets zones without a roster."""
    profiles = {}
    for source in hr_sources:
        for channel, athlete in zip(getattr(source, "channels", ()), getattr(source, "athletes", ())):
            profiles[channel] = AthleteProfile(None, athlete.name, athlete.hr_max_bpm, athlete.hr_rest_bpm)
    return profiles


def assigned_profiles(data_dir: Path, assignments: Sequence[str]) -> dict[str, AthleteProfile]:
    """CHANNEL=NAME assignments checked against the roster; ValueError names a bad one."""
    profiles = {}
    if not assignments:
        return profiles
    with Store.open(data_dir) as store:
        for item in assignments:
            channel, sep, name = item.partition("=")
            athlete = store.athlete_by_name(name) if sep and channel else None
            if athlete is None:
                raise ValueError(f"--athlete {item!r}: expected CHANNEL=NAME of an athlete on the roster")
            profiles[channel] = AthleteProfile(athlete.id, athlete.name, athlete.hr_max_bpm,
                                               athlete.hr_rest_bpm, athlete.consent)
    return profiles
