"""Session video lands in closed, playable segments whose index matches what is on disk."""

from __future__ import annotations

import queue

import cv2
import numpy as np
import pytest

from desktop.sources.camera import Frame, open_camera
from desktop.sources.events import StreamEnded
from desktop.store.video import PARTIAL_SUFFIX, SegmentedVideoWriter, is_playable
from edge_models.assets import sha256_of
from tests.support.assets import real_asset

FRAME_WAIT_S = 10.0  # the most a test waits for the next frame from a camera thread
FRAMES_AHEAD = 8  # full-size frames the camera may decode ahead of the writer


def _record(store, session_id, frames, *, fps, frame_size, segment_s):
    video = SegmentedVideoWriter(store.video_dir, session_id, fps=fps, frame_size=frame_size, segment_s=segment_s,
                                 on_segment_closed=lambda seg: store.add_video_segment(session_id, seg))
    for frame in frames:
        video.write(frame)
    video.close()
    return store.video_segments(session_id)


def _frames_until_end(camera):
    events: queue.Queue = queue.Queue(maxsize=FRAMES_AHEAD)  # holds the camera back: memory stays small
    camera.start(lambda event: events.put(event, timeout=FRAME_WAIT_S))
    try:
        while not isinstance(event := events.get(timeout=FRAME_WAIT_S), StreamEnded):
            yield event
    finally:
        camera.stop()


def _first_frames(camera, count):
    events: queue.Queue = queue.Queue()
    camera.start(events.put)
    try:
        return [events.get(timeout=FRAME_WAIT_S) for _ in range(count)]
    finally:
        camera.stop()


def _assert_sound(store, segments, expected_counts):
    assert [s.frame_count for s in segments] == expected_counts
    for segment in segments:
        path = store.segment_file(segment)
        assert is_playable(path, segment.frame_count), path
        assert sha256_of(path) == segment.sha256 and segment.codec == "MJPG" and segment.closed
    assert not list(store.video_dir.rglob(f"*{PARTIAL_SUFFIX}"))


def test_synthetic_frames_become_indexed_playable_segments(store, session_id):
    frames = _first_frames(open_camera("synthetic:160x120@30", realtime=False), 75)
    segments = _record(store, session_id, frames, fps=30.0, frame_size=(160, 120), segment_s=1.0)
    _assert_sound(store, segments, [30, 30, 15])
    assert segments[0].start_mono_s == frames[0].t_mono_s and segments[2].start_mono_s == frames[60].t_mono_s
    assert store.session(session_id).video_segment_count == 3


def test_the_real_demo_clip_is_recorded_whole_at_full_speed(store, session_id):
    camera = open_camera(f"file:{real_asset('demo.mp4')}", realtime=False)
    small = (camera.frame_size[0] // 4, camera.frame_size[1] // 4)  # recorded smaller: keeps the test fast
    segments = _record(store, session_id, _frames_until_end(camera), fps=camera.fps, frame_size=small, segment_s=2.0)
    _assert_sound(store, segments, [60, 60, 60, 50])  # the clip's 230 frames at 30 fps, 2 s a segment


def test_frames_that_are_not_bgr_images_are_refused(store, session_id):
    video = SegmentedVideoWriter(store.video_dir, session_id, fps=30.0, frame_size=(32, 32),
                                 on_segment_closed=lambda seg: None)
    with pytest.raises(ValueError, match="BGR uint8"):
        video.write(Frame(0, 0.0, np.zeros((32, 32), np.float32)))


def test_is_playable_tells_garbage_and_short_files(tmp_path, store, session_id):
    frames = _first_frames(open_camera("synthetic:64x48@30", realtime=False), 10)
    [segment] = _record(store, session_id, frames, fps=30.0, frame_size=(64, 48), segment_s=1.0)
    assert not is_playable(store.segment_file(segment), 11)
    garbage = tmp_path / "garbage.avi"
    garbage.write_bytes(np.random.default_rng(0).bytes(4096))
    assert not is_playable(garbage)


def test_an_odd_frame_size_is_recorded_at_the_even_size_it_decodes_to(store, session_id):
    frames = _first_frames(open_camera("synthetic:65x49@30", realtime=False), 5)
    video = SegmentedVideoWriter(store.video_dir, session_id, fps=30.0, frame_size=(65, 49), segment_s=1.0,
                                 on_segment_closed=lambda seg: store.add_video_segment(session_id, seg))
    assert video.frame_size == (64, 48)
    for frame in frames:
        video.write(frame)
    video.close()
    [segment] = store.video_segments(session_id)
    capture = cv2.VideoCapture(str(store.segment_file(segment)))
    ok, image = capture.read()
    capture.release()
    assert ok and image.shape == (48, 64, 3)
