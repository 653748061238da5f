"""The recorder: runs the chosen sources, stores everything they say, keeps live analytics.

Threads (none of them the Qt thread):
- each source grabs on its own thread and hands events to `post` or the frame path (never
  blocking);
- the dispatcher thread hands events to the store writer, the live analytics, the feedback
  workers and the listeners (the CLI printer, the UI bridge). A listener or worker that fails is
  logged and counted; it never stops the storing;
- the video thread writes frames into closed segments; it drops frames rather than queue them
  when the disk falls behind, and counts the drops;
- the store writer (desktop.store.StoreWriter) is the one thread that writes SQLite.

Heart-rate events are never dropped: their queue is unbounded (a squad's events are a few
hundred bytes a second). Frames are: their queue holds two seconds of video.
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

import cv2

from desktop.analytics.live import LiveAthleteState
from desktop.sources.camera.base import CAMERA_CHANNEL, CameraSource, Frame
from desktop.sources.events import FILE_DAMAGED, ChannelOpened, FeedbackEvent, SignalGap, SourceProblem, StreamEnded
from desktop.sources.heart_rate.base import HeartRateSample, HeartRateSource
from desktop.store import Store, StoreWriter
from desktop.store.checks import check_storable
from desktop.store.video import SegmentedVideoWriter

logger = logging.getLogger(__name__)

MAX_VIDEO_WIDTH_PX = 960  # larger frames are scaled down before storing: ~1 MB/s of MJPG, not ~12
VIDEO_QUEUE_S = 2.0  # frames waiting for the video writer, in seconds of video, before drops
QUEUE_POLL_S = 0.1  # how often a waiting recorder looks at its stop flag
DRAIN_TIMEOUT_S = 30.0  # the dispatcher hands on a queue of minutes of events in well under this
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
    rr_dropped: int = 0  # RR intervals the source left out (0 or out of range); their samples were kept
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
    events_refused: int = 0  # events or segments the store would not take (malformed); logged
    listener_errors: int = 0  # failures of listeners, workers' hooks or the dispatcher; logged
    feedback_failures: int = 0  # frames or samples a feedback model failed on; logged
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AthleteProfile:
    """Who wears a strap, as the store knows them (None fields: not assigned)."""

    athlete_id: int | None
    name: str
    hr_max_bpm: float | None = None
    hr_rest_bpm: float | None = None
    consent: bool = True


@dataclass
class _SourceProgress:
    """Which of a source's channels are still streaming; a source ends when all of them have.

    A heart-rate source announces each channel (ChannelOpened) before its samples; a camera has
    one channel and announces none. Either has ended once no announced channel is left open
    after a StreamEnded or a fatal problem.
    """

    open_channels: set[str] = field(default_factory=set)
    ended: bool = False

    def note(self, event: object) -> None:
        if isinstance(event, ChannelOpened):
            self.open_channels.add(event.channel)
        elif isinstance(event, StreamEnded) or (isinstance(event, SourceProblem) and event.fatal):
            self.open_channels.discard(event.channel)
            self.ended |= not self.open_channels


def _refuse_shared_channels(sources: list[HeartRateSource]) -> None:
    """Two sources that would record under one channel would mix two athletes' heart rate."""
    specs = [s.spec for s in sources]
    twice = sorted({spec for spec in specs if specs.count(spec) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} given more than once: one source per strap or file")
    seen: dict[str, str] = {}
    for source in sources:
        for channel in getattr(source, "channels", ()):  # known before start for sim and replay
            if channel in seen:
                raise ValueError(f"{seen[channel]} and {source.spec} would both record as {channel!r}: "
                                 f"number simulated athletes apart (sim:N?first=K) or rename a file")
            seen[channel] = source.spec


class Recorder:
    """Records one session from heart-rate sources and an optional camera into a data directory."""

    def __init__(self, data_dir: Path, hr_sources: Iterable[HeartRateSource], camera: CameraSource | None = None,
                 *, clock: Callable[[], float] = time.monotonic, athletes: dict[str, AthleteProfile] | None = None,
                 listeners: Iterable[Listener] = (), max_video_width_px: int = MAX_VIDEO_WIDTH_PX):
        self.data_dir = Path(data_dir)
        self.hr_sources = list(hr_sources)
        _refuse_shared_channels(self.hr_sources)
        self.camera = camera
        self._clock = clock
        self._athletes = dict(athletes or {})
        self._listeners = list(listeners)
        self._workers: list[FeedbackWorker] = []
        self._max_video_width_px = max_video_width_px
        self._events: queue.Queue = queue.Queue()
        self._frames: queue.Queue = queue.Queue(maxsize=self._video_queue_len())
        self._progress = [_SourceProgress() for _ in range(len(self.hr_sources) + (camera is not None))]
        self._live: dict[str, LiveAthleteState] = {}
        self._summaries: dict[str, ChannelSummary] = {}
        self._problems: list[str] = []
        self._counts: Counter = Counter()  # each key is written by one thread only
        self.ended = threading.Event()  # set once every source has delivered its last event
        self._threads: list[threading.Thread] = []
        self._started_sources: list = []  # sources started, stopped first on stop()
        self.session_id: str | None = None
        self._started_mono_s = 0.0
        self._sources_started_mono_s = 0.0
        self._writer: StoreWriter | None = None
        self._video: SegmentedVideoWriter | None = None

    def _video_queue_len(self) -> int:
        fps = self.camera.fps if self.camera is not None else 30.0
        return max(2, int(VIDEO_QUEUE_S * fps))

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        """Create the session, start the writer threads, the workers, then the sources.

        If anything fails to start, what did start is stopped, the session is closed as
        'interrupted' with what it holds, and the error is raised.
        """
        self._started_mono_s = self._clock()
        self.session_id = self._create_session()
        try:
            self._start_threads()
        except BaseException:
            self._shut_down(status="interrupted")
            raise
        self._sources_started_mono_s = self._clock()
        logger.info("recording session %s: %d heart-rate source(s), camera %s", self.session_id,
                    len(self.hr_sources), "on" if self.camera else "off")
        return self.session_id

    def _create_session(self) -> str:
        with Store.open(self.data_dir) as store:
            session_id = store.create_session(
                started_wall_utc=datetime.now(timezone.utc), started_mono_s=self._started_mono_s,
                hr_specs=[s.spec for s in self.hr_sources], camera_spec=self.camera.spec if self.camera else None)
            for channel, profile in self._athletes.items():  # consent is checked by the store too
                store.add_channel(session_id, channel, profile.name, profile.athlete_id)
        return session_id

    def _start_threads(self) -> None:
        self._writer = StoreWriter(self.data_dir, self.session_id, clock=self._clock)
        self._spawn(self._dispatch_loop, "recorder-dispatch")
        if self.camera is not None:
            self._video = SegmentedVideoWriter(
                self.data_dir / "video", self.session_id, fps=self.camera.fps, frame_size=self._video_size(),
                on_segment_closed=self._on_segment_closed)
            self._spawn(self._video_loop, "recorder-video")
        for worker in self._workers:
            worker.start()
        for index, source in enumerate(self.hr_sources):
            source.start(self._sink_for(index))
            self._started_sources.append(source)
        if self.camera is not None:
            self.camera.start(self._camera_sink(len(self.hr_sources)))
            self._started_sources.append(self.camera)

    @property
    def workers(self) -> tuple[FeedbackWorker, ...]:
        """The feedback workers running beside the recording (read-only)."""
        return tuple(self._workers)

    def add_worker(self, worker: FeedbackWorker) -> None:
        """Run `worker` beside the recording; its events go through `post`. Call before `start`."""
        self._workers.append(worker)

    def _video_size(self) -> tuple[int, int]:
        width, height = self.camera.frame_size
        if width <= self._max_video_width_px:
            return width, height
        return self._max_video_width_px, round(height * self._max_video_width_px / width)

    def wait(self, duration_s: float | None, stop: threading.Event | None = None) -> None:
        """Block until `duration_s` of recording (from when the sources started) has passed,
        `stop` is set, or every source has ended."""
        stop = stop or threading.Event()
        deadline = None if duration_s is None else self._sources_started_mono_s + duration_s
        while not stop.is_set() and not self.ended.is_set():
            remaining = None if deadline is None else deadline - self._clock()
            if remaining is not None and remaining <= 0:
                return
            stop.wait(QUEUE_POLL_S if remaining is None else min(QUEUE_POLL_S, remaining))

    def stop(self) -> RecordingSummary:
        """Stop the sources, drain every queue, close the last segment and the session."""
        ended_mono_s = self._shut_down(status="completed")
        return self._summary(ended_mono_s)

    def _shut_down(self, status: str) -> float:
        """Stop every part, keep all that was said, close the session; never leaves it 'recording'."""
        # sources first; then let the workers see every event the sources gave; then stop every
        # worker (started or not: each closes its models), whose last word still reaches the store
        parts_ok = all([self._stop_part(p) for p in self._started_sources])
        self._started_sources.clear()
        self._drain_events()
        parts_ok &= all([self._stop_part(w) for w in self._workers])
        self._events.put(_STOP)
        if self._video is not None:
            self._frames.put(_STOP)  # the video thread always drains its queue: this cannot block long
        for thread in self._threads:
            thread.join()
        ended_mono_s = self._clock()
        try:
            self._close_writers()
        except Exception:
            status = "interrupted"
            raise
        finally:
            with Store.open(self.data_dir) as store:
                store.finish_session(self.session_id, ended_mono_s=ended_mono_s,
                                     status=status if parts_ok else "interrupted")
        return ended_mono_s

    def _drain_events(self) -> None:
        """Wait until the dispatcher has handed on everything queued so far."""
        if not any(t.name == "recorder-dispatch" and t.is_alive() for t in self._threads):
            return
        drained = threading.Event()
        self._events.put((None, drained))
        if not drained.wait(DRAIN_TIMEOUT_S):
            logger.error("the dispatcher did not drain within %.0f s", DRAIN_TIMEOUT_S)

    @staticmethod
    def _stop_part(part) -> bool:
        try:
            part.stop()
            return True
        except Exception:
            logger.exception("%s did not stop cleanly", type(part).__name__)
            return False

    def _close_writers(self) -> None:
        """Close the last video segment, then the store writer whatever the video did."""
        try:
            if self._video is not None:
                self._video.close()
        finally:
            if self._writer is not None:
                self._writer.close()

    @property
    def athletes(self) -> dict[str, AthleteProfile]:
        """Who wears which strap, by channel, as assigned before the session."""
        return dict(self._athletes)

    @property
    def started_mono_s(self) -> float:
        """When the session started on the recorder's clock (its marks and samples share it)."""
        return self._started_mono_s

    @property
    def frames_dropped(self) -> int:
        """Frames the video writer could not keep up with so far (any thread may read it)."""
        return self._counts["frames_dropped"]

    def live_state(self, channel: str) -> LiveAthleteState | None:
        return self._live.get(channel)

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- what sources and workers call (their threads): enqueue only --------------------------

    def post(self, event: object) -> None:
        """Hand an event to the recorder from any thread (a feedback worker's, say); never blocks."""
        self._events.put((None, event))

    def _sink_for(self, source_index: int) -> Callable[[object], None]:
        return lambda event: self._events.put((source_index, event))

    def _camera_sink(self, source_index: int) -> Callable[[object], None]:
        def on_camera_event(event: object) -> None:
            if not isinstance(event, Frame):
                self._events.put((source_index, event))
                return
            for worker in self._workers:
                if hasattr(worker, "offer"):
                    worker.offer(event)
            try:
                self._frames.put_nowait(self._sized_for_storage(event))
            except queue.Full:
                self._counts["frames_dropped"] += 1
        return on_camera_event

    def _sized_for_storage(self, frame: Frame) -> Frame:
        """Scale a frame to the stored size before it waits for the writer.

        The queue holds up to VIDEO_QUEUE_S of video: full-size frames of a 1.8-megapixel camera
        there cost ~5 MB each (over 300 MB when the writer falls behind), stored-size ones ~1.5."""
        width, height = self._video.frame_size
        if frame.image.shape[1] <= width + 1:
            return frame
        small = cv2.resize(frame.image, (width, height), interpolation=cv2.INTER_AREA)
        return Frame(frame.index, frame.t_mono_s, small)

    # -- worker threads ---------------------------------------------------------------------

    def _dispatch_loop(self) -> None:
        while (item := self._events.get()) is not _STOP:
            source_index, event = item
            if isinstance(event, threading.Event):  # a drain marker: all before it is handed on
                event.set()
                continue
            try:
                self._dispatch(source_index, event)
            except Exception:  # a bug on one event must not end the storing of all the others
                self._counts["dispatch_errors"] += 1
                logger.exception("the recorder could not handle a %s", type(event).__name__)

    def _dispatch(self, source_index: int | None, event: object) -> None:
        if source_index is not None:
            self._note_progress(source_index, event)
        try:
            check_storable(event)  # malformed events are refused before anyone counts or shows them
        except (ValueError, TypeError) as exc:
            self._counts["events_refused"] += 1
            logger.warning("refused a malformed %s: %s", type(event).__name__, exc)
            return
        event = self._handle(event)
        self._tell_others(event)

    def _note_progress(self, source_index: int, event: object) -> None:
        self._progress[source_index].note(event)
        if all(p.ended for p in self._progress):
            self.ended.set()

    def _tell_others(self, event: object) -> None:
        hooks = [w.on_event for w in self._workers if hasattr(w, "on_event")] + self._listeners
        for hook in hooks:
            try:
                hook(event)
            except Exception:
                self._counts["listener_errors"] += 1
                logger.exception("a listener failed on a %s; the recording goes on", type(event).__name__)

    def _handle(self, event: object) -> object:
        """Account for the event and store it (heart rate only for consenting athletes)."""
        if isinstance(event, ChannelOpened):
            event = self._open_channel(event)
        elif isinstance(event, HeartRateSample):
            self._count_sample(event)
            if not self._may_store(event.channel):
                return event  # shown live, never stored
        elif isinstance(event, FeedbackEvent):
            self._counts["feedback_events"] += 1
            if not self._may_store(event.channel):
                return event
        elif isinstance(event, SignalGap):
            self._note_gap(event)
        elif isinstance(event, SourceProblem):
            self._note_problem(event)
        self._store(event)
        return event

    def _store(self, event: object) -> None:
        try:
            self._writer.put(event)
        except (ValueError, TypeError) as exc:  # the store refuses a malformed event: count it, go on
            self._counts["events_refused"] += 1
            logger.warning("the store refused a %s: %s", type(event).__name__, exc)

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
        summary.rr_dropped += sample.rr_dropped
        live = self._live.get(sample.channel)
        if live is not None:
            live.add(sample)

    def _note_gap(self, gap: SignalGap) -> None:
        self._channel(gap.channel).gaps += 1
        live = self._live.get(gap.channel)
        if live is not None:
            live.add_gap()  # no RMSSD or zone time across the hole

    def _note_problem(self, problem: SourceProblem) -> None:
        self._channel(problem.channel).problems += 1
        if problem.fatal or problem.kind == FILE_DAMAGED:  # what the coach must read in the summary
            self._problems.append(f"{problem.channel}: {problem.message}")

    def _video_loop(self) -> None:
        """Write frames into segments; after a write failure, say so once and keep draining."""
        failed = False
        while (frame := self._frames.get()) is not _STOP:
            if failed:
                self._counts["frames_dropped"] += 1
                continue
            try:
                self._video.write(frame)
                self._counts["frames_recorded"] += 1
            except Exception as exc:  # a full disk, an unwritable folder, a frame the codec refuses
                failed = True
                logger.exception("video recording stopped")
                self.post(SourceProblem(CAMERA_CHANNEL, self._clock(), "video_write_failed",
                                        f"video is no longer recorded: {exc}", fatal=True))

    def _on_segment_closed(self, segment) -> None:
        """Called on the video thread once a segment file is closed and safe: index it."""
        try:
            self._writer.put(segment)
            self._counts["video_segments"] += 1
        except (ValueError, TypeError) as exc:
            self._counts["segments_refused"] += 1
            logger.error("video segment %s not indexed: %s", segment.path, exc)

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
        counts = self._counts
        return RecordingSummary(
            session_id=self.session_id, duration_s=ended_mono_s - self._started_mono_s, channels=channels,
            frames_recorded=counts["frames_recorded"], frames_dropped=counts["frames_dropped"],
            video_segments=counts["video_segments"], feedback_events=counts["feedback_events"],
            events_refused=counts["events_refused"] + counts["segments_refused"],
            listener_errors=counts["listener_errors"] + counts["dispatch_errors"],
            feedback_failures=sum(getattr(w, "failures", 0) for w in self._workers),
            problems=list(self._problems))
