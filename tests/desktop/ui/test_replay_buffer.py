"""Instant replay, Qt-free: recent frames from memory, older ones from real closed segments."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from desktop.replay_buffer import (FrameRing, GrabTimes, PackedFrame, PoseHistory, ReplayCursor, ReplaySource, SegmentLibrary, SegmentSpan,
                                   StillFrame, display_image)
from desktop.sources.camera.base import Frame
from desktop.store.video import SegmentedVideoWriter
from tests.support.assets import real_asset
from tests.support.waiting import wait_until

FPS = 30.0


def clip_images(count: int) -> list:
    capture = cv2.VideoCapture(str(real_asset("demo.mp4")))
    images = []
    while len(images) < count:
        ok, image = capture.read()
        if not ok:
            break
        images.append(image)
    capture.release()
    return images


def test_the_ring_keeps_the_newest_frames_within_its_byte_budget_and_gives_them_back_faithfully():
    images = [display_image(i) for i in clip_images(40)]
    assert images[0].shape[1] == 640  # the real clip is 1768 px wide: scaled once, for display
    sizes = [PackedFrame.pack(StillFrame(0.0, image)).nbytes for image in images]
    budget = sum(sizes[30:])  # room for exactly the newest ten
    ring = FrameRing(max_bytes=budget)
    for n, image in enumerate(images):
        ring.append(StillFrame(n / FPS, image))
    kept = ring.snapshot()
    assert [f.t_mono_s for f in kept] == [n / FPS for n in range(30, 40)]
    assert sum(f.nbytes for f in kept) <= budget
    assert sum(sizes[30:]) < images[0].nbytes * 10 / 5  # packed: under a fifth of the raw frames' bytes

    back = kept[-1].unpack().image
    assert back.shape == images[39].shape and back.dtype == np.uint8  # BGRA, painted as it is
    error = back[:, :, :3].astype(np.float64) - images[39][:, :, :3]
    assert 10 * np.log10(255**2 / np.mean(error**2)) > 35  # PSNR: what the coach replays is the frame


def test_older_moments_come_from_the_closed_segments_on_the_loader_thread(tmp_path):
    spans = []
    writer = SegmentedVideoWriter(tmp_path / "video", "s1", fps=FPS, frame_size=(884, 496), segment_s=1.0,
                                  on_segment_closed=lambda seg: spans.append(
                                      SegmentSpan(tmp_path / seg.path, seg.start_mono_s, seg.end_mono_s, seg.frame_count)))
    images = clip_images(90)
    for n, image in enumerate(images):
        writer.write(Frame(n, 100 + n / FPS, image))
    writer.close()
    ring = FrameRing()
    for n in range(60, 90):  # only the last second is still in memory
        ring.append(StillFrame(100 + n / FPS, display_image(images[n])))
    grabbed = GrabTimes()
    for n in range(90):
        grabbed.add(100 + n / FPS)
    library = SegmentLibrary(lambda: spans, grabbed=grabbed)
    library.start()
    try:
        source = ReplaySource(ring, library)
        assert source.frame_at(100 + 75 / FPS).t_mono_s == pytest.approx(100 + 75 / FPS)  # from memory
        assert source.frame_at(100.5) is None  # asked of the loader: never read on the caller's thread
        wait_until(lambda: source.frame_at(100.5) is not None, 30, "the segment to be decoded")
        older = source.frame_at(100.5)
        assert older.t_mono_s <= 100.5 < older.t_mono_s + 1 / FPS + 1e-9
        assert older.image.shape[1] == 640 and older.exact  # no frame dropped: the grab times are known
        times = source.frame_times()
        assert len(times) == 90 and times == sorted(times)
    finally:
        library.stop()


def test_the_cursor_plays_at_a_quarter_speed_steps_by_frames_and_never_passes_live():
    cursor = ReplayCursor(10.0, speed=0.25)
    cursor.advance(2.0, newest_s=20.0)
    assert cursor.t_mono_s == pytest.approx(10.5)
    times = [10 + n / FPS for n in range(300)]
    cursor.step(times, 1)
    assert not cursor.playing and cursor.t_mono_s == pytest.approx(10.5 + 1 / FPS)
    cursor.step(times, -2)
    assert cursor.t_mono_s == pytest.approx(10.5 - 1 / FPS)
    cursor.playing = True
    cursor.advance(100.0, newest_s=12.0)
    assert cursor.t_mono_s == 12.0


def test_a_replayed_frame_gets_the_pose_found_on_it():
    poses = PoseHistory()
    import numpy as np

    landmarks = np.zeros((33, 5), dtype=np.float32)
    landmarks[:, 0] = 100
    poses.add(5.0, landmarks, (1768, 994))
    poses.add(5.1, None, (1768, 994))
    found = poses.near(5.02)
    assert found is not None and found[0].shape == (33, 3) and found[1] == (1768, 994)
    assert poses.near(5.09) is None  # nobody was found on that frame: no skeleton
    assert poses.near(9.0) is None


def test_a_segment_with_dropped_frames_has_estimated_times_and_says_so(tmp_path):
    grabbed = GrabTimes()
    for n in range(60):
        grabbed.add(10 + n / FPS)
    whole = SegmentSpan(tmp_path / "a.avi", 10.0, 10 + 60 / FPS, 60)
    times, exact = whole.frame_times(grabbed)
    assert exact and times == [10 + n / FPS for n in range(60)]
    cut = SegmentSpan(tmp_path / "a.avi", 10.0, 10 + 60 / FPS, 50)  # ten frames never reached the disk
    times, exact = cut.frame_times(grabbed)
    assert not exact and len(times) == 50 and times[0] == 10.0
