"""A recording that a test kills with SIGKILL: heart rate through the writer, video in segments.

Run as `python crash_child.py DATA_DIR`; prints `session ID`, then `closed N` after each segment.
"""

from __future__ import annotations

import queue
import sys
from datetime import datetime, timezone
from pathlib import Path

from desktop.sources.camera import Frame, open_camera
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.store import Store, StoreWriter
from desktop.store.video import SegmentedVideoWriter

FRAME_WAIT_S = 5.0  # the most the child waits for a frame from its camera thread


def main(data_dir: Path) -> None:
    camera = open_camera("synthetic:160x120@120", realtime=True)
    with Store.open(data_dir) as store:
        session_id = store.create_session(started_wall_utc=datetime.now(timezone.utc), started_mono_s=0.0,
                                          hr_specs=["sim:1"], camera_spec=camera.spec)
    print(f"session {session_id}", flush=True)
    writer = StoreWriter(data_dir, session_id, flush_interval_s=0.1)

    def indexed(segment) -> None:
        writer.put(segment)
        print(f"closed {segment.path}", flush=True)

    video = SegmentedVideoWriter(data_dir / "video", session_id, fps=camera.fps, frame_size=camera.frame_size,
                                 segment_s=0.25, on_segment_closed=indexed)
    frames: queue.Queue = queue.Queue()
    camera.start(frames.put)
    while True:  # until killed
        frame = frames.get(timeout=FRAME_WAIT_S)
        if isinstance(frame, Frame):
            video.write(frame)
            writer.put(HeartRateSample("sim-1", frame.t_mono_s, 120 + frame.index % 40, (0.5,)))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
