"""Camera sources open what a spec names, stamp frames with the injected clock, and fail clearly."""

from __future__ import annotations

import itertools
import threading
import queue
import shutil
import time

import numpy as np
import pytest

from desktop.sources.camera import CAMERA_CHANNEL, CameraUnavailable, Frame, open_camera
from desktop.sources.events import SourceProblem, StreamEnded
from tests.support.assets import real_asset

EVENT_WAIT_S = 10.0  # the most a test waits for the next event from a camera thread
DEMO_FRAMES = 230  # frames in the Sports2D demo clip (30 fps, 7.7 s)


def _light(event: object) -> object:
    """A frame without its pixels (only their shape), so a test does not hold a whole clip in memory."""
    return Frame(event.index, event.t_mono_s, event.image.shape) if isinstance(event, Frame) else event


def _events_until_last(camera) -> list[object]:
    """Everything a finite camera says, up to its end or its fatal problem (frames made light)."""
    events: queue.Queue = queue.Queue()
    camera.start(events.put)
    said = []
    try:
        while not isinstance(said[-1] if said else None, (StreamEnded, SourceProblem)):
            said.append(_light(events.get(timeout=EVENT_WAIT_S)))
    finally:
        camera.stop()
    return said


@pytest.mark.parametrize("spec", ["webcam", "", "cv:front", "cv:", "file:", "synthetic:640x", "synthetic:4x4@30",
                                  "synthetic:64x48@0"])
def test_a_bad_spec_lists_the_accepted_forms(spec):
    with pytest.raises(ValueError, match="cv:INDEX.*file:PATH.*synthetic:WxH@FPS"):
        open_camera(spec)


def test_an_absent_camera_is_unavailable_at_open():
    with pytest.raises(CameraUnavailable, match="no camera at index 99"):
        open_camera("cv:99")


def test_a_missing_file_is_unavailable_at_open(tmp_path):
    with pytest.raises(CameraUnavailable, match="no video file at"):
        open_camera(f"file:{tmp_path / 'nothing.mp4'}")


def test_a_garbage_file_is_unavailable_at_open(tmp_path):
    garbage = tmp_path / "clip.mp4"
    garbage.write_bytes(real_asset("demo.mp4").read_bytes()[-50_000:])  # the tail of a real clip: no header
    with pytest.raises(CameraUnavailable, match="clip.mp4"):
        open_camera(f"file:{garbage}")


def test_the_real_clip_plays_whole_then_ends():
    ticks = itertools.count(start=5000)
    camera = open_camera(f"file:{real_asset('demo.mp4')}", clock=lambda: next(ticks) / 1000, realtime=False)
    assert camera.fps == 30.0 and camera.frame_size == (1768, 994)

    said = _events_until_last(camera)

    frames = said[:-1]
    assert [f.index for f in frames] == list(range(DEMO_FRAMES))
    assert all(isinstance(f, Frame) and f.image == (994, 1768, 3) for f in frames)
    stamps = [f.t_mono_s for f in frames]
    assert stamps == sorted(stamps) and stamps[0] >= 5.0  # stamped by the injected clock
    assert isinstance(said[-1], StreamEnded) and said[-1].channel == CAMERA_CHANNEL


def test_a_clip_cut_short_reports_the_camera_lost(tmp_path):
    cut = tmp_path / "cut.mp4"
    shutil.copy(real_asset("demo.mp4"), cut)
    with open(cut, "r+b") as f:
        f.truncate(cut.stat().st_size // 3)

    said = _events_until_last(open_camera(f"file:{cut}", realtime=False))

    problem = said[-1]
    assert isinstance(problem, SourceProblem) and problem.kind == "camera_lost" and problem.fatal
    assert problem.channel == CAMERA_CHANNEL and "cut short" in problem.message
    assert 0 < len(said) - 1 < DEMO_FRAMES


def test_realtime_frames_leave_at_the_frame_rate():
    camera = open_camera("synthetic:64x48@50", realtime=True)
    events: queue.Queue = queue.Queue()
    camera.start(events.put)
    try:
        frames = [events.get(timeout=EVENT_WAIT_S) for _ in range(11)]
    finally:
        camera.stop()
    assert frames[-1].t_mono_s - frames[0].t_mono_s >= 10 / 50 - 1e-3
    assert frames[3].image.shape == (48, 64, 3)
    assert not (frames[0].image == frames[10].image).all()  # something moves


def test_stop_does_not_wait_for_the_next_frame_to_be_due():
    camera = open_camera("synthetic:32x32@0.5", realtime=True)  # a frame every 2 s
    events: queue.Queue = queue.Queue()
    camera.start(events.put)
    events.get(timeout=EVENT_WAIT_S)
    started_s = time.monotonic()
    camera.stop()
    assert time.monotonic() - started_s < 1.0


def test_a_failing_sink_does_not_stop_the_camera():
    delivered: queue.Queue = queue.Queue()
    calls = itertools.count()

    def flaky_sink(event):
        if next(calls) == 0:
            raise RuntimeError("queue full")
        delivered.put(event)

    camera = open_camera("synthetic:32x32@30", realtime=False)
    camera.start(flaky_sink)
    try:
        assert delivered.get(timeout=EVENT_WAIT_S).index == 1
    finally:
        camera.stop()


def test_a_looped_clip_plays_again_from_the_start():
    from desktop.sources.camera import open_camera

    clip = real_asset("demo.mp4")
    frames = []
    enough = threading.Event()

    def sink(event):
        if isinstance(event, Frame):
            frames.append(event)
            if len(frames) >= 300:
                enough.set()

    camera = open_camera(f"file:{clip}?loop=1", realtime=False)
    camera.start(sink)
    assert enough.wait(timeout=60), "a looped 230-frame clip should keep giving frames"
    camera.stop()
    assert np.array_equal(frames[0].image, frames[230].image)  # the second pass starts where the first did
