"""The grab thread every camera source runs: grab, stamp, put on the sink; never raise into it."""

from __future__ import annotations

import logging
import threading
from typing import Callable

import numpy as np

from desktop.sources.camera.base import CAMERA_CHANNEL, Frame
from desktop.sources.events import Sink, SourceProblem, StreamEnded

logger = logging.getLogger(__name__)

STOP_JOIN_TIMEOUT_S = 5.0  # how long stop() waits for a grab in progress (a live camera read) to return


class CameraUnavailable(Exception):
    """The camera or video file named by a spec cannot be opened; the message says which and why."""


class CameraLost(Exception):
    """Frames stopped coming from a camera that was open (unplugged, file cut short)."""


class GrabbingCamera:
    """Base of the camera sources: a grab thread that stamps `clock()` at each grab.

    Subclasses give `_grab()` (an image, or None at the end of a finite source; CameraLost when
    it fails) and `_release()`. With `paced`, frames leave at `fps` by the source's clock, waiting
    on the stop event (not sleeping) so `stop()` is prompt.
    """

    def __init__(self, spec: str, *, fps: float, frame_size: tuple[int, int], clock: Callable[[], float],
                 paced: bool):
        self.spec = spec
        self.fps = fps
        self.frame_size = frame_size
        self._clock = clock
        self._paced = paced
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sink: Sink | None = None
        self.frames_grabbed = 0

    def start(self, sink: Sink) -> None:
        if self._thread is not None:
            raise RuntimeError(f"camera {self.spec} was already started")
        self._sink = sink
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.spec}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop grabbing and return when the grab thread has ended (and released the device)."""
        self._stop.set()
        if self._thread is None:
            self._release()
            return
        self._thread.join(STOP_JOIN_TIMEOUT_S)
        if self._thread.is_alive():
            logger.warning("camera %s did not stop within %.0f s", self.spec, STOP_JOIN_TIMEOUT_S)

    # -- subclasses -------------------------------------------------------------------------

    def _grab(self) -> np.ndarray | None:
        raise NotImplementedError

    def _release(self) -> None:
        """Free the device or file; called once, on the grab thread, when it ends."""

    # -- the grab thread --------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._grab_until_stopped()
        except CameraLost as exc:
            self._lost(str(exc))
        except Exception as exc:  # OpenCV raises cv2.error and more: it becomes an event, never a crash
            logger.exception("camera %s failed", self.spec)
            self._lost(f"camera {self.spec} failed: {exc}")
        finally:
            self._release()

    def _grab_until_stopped(self) -> None:
        first_mono_s: float | None = None
        while not self._stop.is_set():
            if self._paced and first_mono_s is not None and not self._wait_for(first_mono_s):
                return
            image = self._grab()
            t_mono_s = self._clock()
            if image is None:
                self._emit(StreamEnded(CAMERA_CHANNEL, t_mono_s))
                return
            first_mono_s = t_mono_s if first_mono_s is None else first_mono_s
            self._emit(Frame(self.frames_grabbed, t_mono_s, image))
            self.frames_grabbed += 1

    def _wait_for(self, first_mono_s: float) -> bool:
        """Wait until the next frame is due; False when stop() came first."""
        due_s = first_mono_s + self.frames_grabbed / self.fps
        return not self._stop.wait(max(0.0, due_s - self._clock()))

    def _lost(self, message: str) -> None:
        logger.error("camera lost after %d frames: %s", self.frames_grabbed, message)
        self._emit(SourceProblem(CAMERA_CHANNEL, self._clock(), "camera_lost", message, fatal=True))

    def _emit(self, event: object) -> None:
        try:
            self._sink(event)
        except Exception:  # the sink is the recorder's queue: a fault there must not kill the grab
            logger.exception("camera %s: the sink refused an event", self.spec)
