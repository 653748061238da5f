"""The pipeline benchmark reads its figures back from what `trackside record` stored."""

from __future__ import annotations

import cv2

from bench.bench_pipeline import FRAME_SIZE_PX, camera_clip, record_command, run_record, stored_figures
from tests.support.assets import real_asset

SHORT_RECORD_S = 4.0  # long enough for several pose events; speed is the benchmark's business


def test_a_short_record_run_stores_frames_and_pose_feedback_the_benchmark_can_read(tmp_path):
    real_asset("demo.mp4")
    clip = camera_clip(tmp_path)
    capture = cv2.VideoCapture(str(clip))
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    assert size == FRAME_SIZE_PX and fps == 30.0  # what the file camera paces itself by

    data_dir = tmp_path / "data"
    summary, cost = run_record(record_command(clip, data_dir, SHORT_RECORD_S), SHORT_RECORD_S)
    figures = stored_figures(data_dir / "trackside.sqlite", summary["session_id"])

    assert len(summary["channels"]) == 3  # three straps beside the camera
    assert summary["frames_recorded"] > 0 and summary["feedback_events"] > 0
    assert 0 < figures["pipeline.frames_stored_per_s"] and 0 < figures["pipeline.feedback_per_s"]
    assert 0 < figures["pipeline.feedback_p95_ms"] <= figures["pipeline.feedback_max_ms"]
    assert cost.peak_rss_mb > 0 and 0 < cost.cpu_s and cost.wall_s >= SHORT_RECORD_S
