"""The recorder: runs the chosen sources, stores everything they say, keeps live analytics.

Threads (none of them the Qt thread):
- each source grabs on its own thread and puts events on our queues (never blocking);
- the dispatcher thread hands heart-rate events to the store writer and the live analytics, and
  tells listeners (the CLI printer, the UI bridge);
- the video thread writes frames into closed segments; it drops frames rather than queue them
  when the disk falls behind, and counts the drops;
- the store writer (desktop.store.StoreWriter) is the one thread that writes SQLite.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Protocol

from desktop.analytics.live import LiveAthleteState
from desktop.sources.camera.base import CAMERA_CHANNEL, CameraSource, Frame
from desktop.sources.events import ChannelOpened, FeedbackEvent, SignalGap, SourceProblem, StreamEnded
from desktop.sources.heart_rate.base import HeartRateSample, HeartRateSource
from desktop.store import Store, StoreWriter
from desktop.store.video import SegmentedVideoWriter

logger = logging.getLogger(__name__)

EVENT_QUEUE_MAX = 10_000  # heart-rate events waiting for the dispatcher: minutes of a full squad
MAX_VIDEO_WIDTH_PX = 960  # larger frames are scaled down before storing: ~1 MB/s of MJPG, not ~12
VIDEO_QUEUE_S = 2.0  # frames waiting for the video writer, in seconds of video, before drops
QUEUE_POLL_S = 0.1  # how often idle threads look at their stop flag
_STOP = object()  # sentinel that ends a worker queue

Listener = Callable[[object], None]


class FeedbackWorker(Protocol):
    """Live inference beside the recording (see desktop.feedback). Optional hooks:
    `on_event(event)` sees every event on the dispatcher thread; `offer(frame)` gets each frame
    on the camera thread. Both must only enqueue."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class ChannelSummary:
    channel: str
    display_name: str
    samples: int = 0
    rr_intervals: int = 0
    gaps: int = 0
    problems: int = 0
    mean_hr_bpm: float | None = None
    max_hr_bpm: int | None = None
    trimp_edwards: float | None = None


@dataclass
class RecordingSummary:
    session_id: str
    duration_s: float
    channels: list[ChannelSummary]
    frames_recorded: int = 0
    frames_dropped: int = 0
    video_segments: int = 0
    feedback_events: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AthleteProfile:
    """Who wears a strap, as the store knows them (None fields: not assigned)."""

    athlete_id: int | None
    name: str
    hr_max_bpm: float | None = None
    hr_rest_bpm: float | None = None
    consent: bool = True


class Recorder:
    """Records one session from heart-rate sources and an optional camera into a data directory."""

    def __init__(self, data_dir: Path, hr_sources: Iterable[HeartRateSource], camera: CameraSource | None = None,
                 *, clock: Callable[[], float] = time.monotonic, athletes: dict[str, AthleteProfile] | None = None,
                 listeners: Iterable[Listener] = (), max_video_width_px: int = MAX_VIDEO_WIDTH_PX):
        self.data_dir = Path(data_dir)
        self.hr_sources = list(hr_sources)
        self.camera = camera
        self._clock = clock
        self._athletes = dict(athletes or {})
        self._listeners = list(listeners)
        self._workers: list[FeedbackWorker] = []
        self._max_video_width_px = max_video_width_px
        self._events: queue.Queue = queue.Queue(maxsize=EVENT_QUEUE_MAX)
        self._frames: queue.Queue = queue.Queue(maxsize=self._video_queue_len())
        self._live: dict[str, LiveAthleteState] = {}
        self._summaries: dict[str, ChannelSummary] = {}
        self._problems: list[str] = []
        self._counts: Counter = Counter()
        self._open_streams = 0
        self._all_ended = threading.Event()
        self._threads: list[threading.Thread] = []
        self.session_id: str | None = None
        self._started_mono_s = 0.0
        self._writer: StoreWriter | None = None
        self._video: SegmentedVideoWriter | None = None

    def _video_queue_len(self) -> int:
        fps = self.camera.fps if self.camera is not None else 30.0
        return max(2, int(VIDEO_QUEUE_S * fps))

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        """Create the session, start the writer threads, then the sources. Returns the session id."""
        self._started_mono_s = self._clock()
        with Store.open(self.data_dir) as store:
            self.session_id = store.create_session(
                started_wall_utc=datetime.now(timezone.utc), started_mono_s=self._started_mono_s,
                hr_specs=[s.spec for s in self.hr_sources], camera_spec=self.camera.spec if self.camera else None)
            for channel, profile in self._athletes.items():  # consent is checked by the store too
                store.add_channel(self.session_id, channel, profile.name, profile.athlete_id)
        self._writer = StoreWriter(self.data_dir, self.session_id, clock=self._clock)
        self._spawn(self._dispatch_loop, "recorder-dispatch")
        if self.camera is not None:
            self._video = SegmentedVideoWriter(
                self.data_dir / "video", self.session_id, fps=self.camera.fps, frame_size=self._video_size(),
                on_segment_closed=self._on_segment_closed)
            self._spawn(self._video_loop, "recorder-video")
        for worker in self._workers:
            worker.start()
        self._open_streams = len(self.hr_sources) + (1 if self.camera else 0)
        for source in self.hr_sources:
            source.start(self.post)
        if self.camera is not None:
            self.camera.start(self._on_camera_event)
        logger.info("recording session %s: %d heart-rate source(s), camera %s", self.session_id,
                    len(self.hr_sources), "on" if self.camera else "off")
        return self.session_id

    def add_worker(self, worker: FeedbackWorker) -> None:
        """Run `worker` beside the recording; its events go through `post`. Call before `start`."""
        self._workers.append(worker)

    def _video_size(self) -> tuple[int, int]:
        width, height = self.camera.frame_size
        if width <= self._max_video_width_px:
            return width, height
        return self._max_video_width_px, round(height * self._max_video_width_px / width)

    def wait(self, duration_s: float | None, stop: threading.Event | None = None) -> None:
        """Block until `duration_s` has passed, `stop` is set, or every finite source has ended."""
        stop = stop or threading.Event()
        deadline = None if duration_s is None else self._started_mono_s + duration_s
        while not stop.is_set() and not self._all_ended.is_set():
            remaining = None if deadline is None else deadline - self._clock()
            if remaining is not None and remaining <= 0:
                return
            stop.wait(QUEUE_POLL_S if remaining is None else min(QUEUE_POLL_S, remaining))

    def stop(self) -> RecordingSummary:
        """Stop the sources, drain every queue, close the last segment and the session."""
        for source in self.hr_sources:
            source.stop()
        if self.camera is not None:
            self.camera.stop()
        for worker in self._workers:
            worker.stop()  # after the sources: their last feedback still reaches the store
        self._events.put(_STOP)
        if self._video is not None:
            self._frames.put(_STOP)
        for thread in self._threads:
            thread.join()
        if self._video is not None:
            self._video.close()
        ended_mono_s = self._clock()
        self._writer.close()
        with Store.open(self.data_dir) as store:
            store.finish_session(self.session_id, ended_mono_s=ended_mono_s, status="completed")
        return self._summary(ended_mono_s)

    @property
    def athletes(self) -> dict[str, AthleteProfile]:
        """Who wears which strap, by channel, as assigned before the session."""
        return dict(self._athletes)

    def live_state(self, channel: str) -> LiveAthleteState | None:
        return self._live.get(channel)

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- what sources call (their threads): enqueue only --------------------------------------

    def post(self, event: object) -> None:
        """Hand an event to the recorder from any thread; never blocks."""
        try:
            self._events.put_nowait(event)
        except queue.Full:
            self._counts["events_dropped"] += 1

    def _on_camera_event(self, event: object) -> None:
        if not isinstance(event, Frame):
            self.post(event)
            return
        for worker in self._workers:
            if hasattr(worker, "offer"):
                worker.offer(event)
        try:
            self._frames.put_nowait(event)
        except queue.Full:
            self._counts["frames_dropped"] += 1

    # -- worker threads ---------------------------------------------------------------------

    def _dispatch_loop(self) -> None:
        while (event := self._events.get()) is not _STOP:
            self._handle(event)
            for worker in self._workers:
                if hasattr(worker, "on_event"):
                    worker.on_event(event)
            for listener in self._listeners:
                listener(event)

    def _handle(self, event: object) -> None:
        """Account for the event and store it (heart rate only for consenting athletes)."""
        if isinstance(event, ChannelOpened):
            event = self._open_channel(event)
        elif isinstance(event, HeartRateSample):
            self._count_sample(event)
            if not self._may_store(event.channel):
                return  # shown live, never stored
        elif isinstance(event, FeedbackEvent):
            self._counts["feedback_events"] += 1
            if not self._may_store(event.channel):
                return
        elif isinstance(event, SignalGap):
            self._channel(event.channel).gaps += 1
        elif isinstance(event, SourceProblem):
            self._note_problem(event)
        elif isinstance(event, StreamEnded):
            self._stream_ended()
        self._writer.put(event)

    def _open_channel(self, event: ChannelOpened) -> ChannelOpened:
        profile = self._athletes.get(event.channel)
        name = profile.name if profile else event.display_name
        self._summaries[event.channel] = ChannelSummary(event.channel, name)
        self._live[event.channel] = LiveAthleteState(
            hr_max_bpm=(profile.hr_max_bpm if profile and profile.hr_max_bpm else None),
            hr_rest_bpm=(profile.hr_rest_bpm if profile and profile.hr_rest_bpm else None))
        return ChannelOpened(event.channel, name, event.t_mono_s)

    def _may_store(self, channel: str) -> bool:
        """Heart rate is stored only for athletes who consent (unassigned straps are stored)."""
        profile = self._athletes.get(channel)
        return profile is None or profile.consent

    def _channel(self, channel: str) -> ChannelSummary:
        return self._summaries.setdefault(channel, ChannelSummary(channel, channel))

    def _count_sample(self, sample: HeartRateSample) -> None:
        summary = self._channel(sample.channel)
        summary.samples += 1
        summary.rr_intervals += len(sample.rr_intervals_s)
        live = self._live.get(sample.channel)
        if live is not None:
            live.add(sample)

    def _note_problem(self, problem: SourceProblem) -> None:
        self._channel(problem.channel).problems += 1
        if problem.fatal:
            self._problems.append(f"{problem.channel}: {problem.message}")
            self._stream_ended()

    def _stream_ended(self) -> None:
        self._open_streams -= 1
        if self._open_streams <= 0:
            self._all_ended.set()

    def _video_loop(self) -> None:
        while (frame := self._frames.get()) is not _STOP:
            self._video.write(frame)
            self._counts["frames_recorded"] += 1

    def _on_segment_closed(self, segment) -> None:
        self._counts["video_segments"] += 1
        self._writer.put(segment)

    # -- summary ----------------------------------------------------------------------------

    def _summary(self, ended_mono_s: float) -> RecordingSummary:
        channels = []
        for channel, summary in sorted(self._summaries.items()):
            if channel == CAMERA_CHANNEL:
                continue
            live = self._live.get(channel)
            if live is not None and summary.samples:
                summary.mean_hr_bpm = live.mean_hr_bpm
                summary.max_hr_bpm = live.max_hr_bpm
                summary.trimp_edwards = live.trimp_edwards
            channels.append(summary)
        return RecordingSummary(
            session_id=self.session_id, duration_s=ended_mono_s - self._started_mono_s, channels=channels,
            frames_recorded=self._counts["frames_recorded"], frames_dropped=self._counts["frames_dropped"],
            video_segments=self._counts["video_segments"], feedback_events=self._counts["feedback_events"],
            problems=list(self._problems))
