"""A recording killed mid-write leaves a sound database and only playable indexed video."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from desktop.store import Store
from desktop.store.video import PARTIAL_SUFFIX, SEGMENT_SUFFIX, is_playable
from edge_models.assets import sha256_of

REPO_ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("crash_child.py")
SEGMENTS_BEFORE_KILL = 4  # closed segments the child reports before the test kills it
LINE_WAIT_S = 20.0  # the most the test waits for the child's next line (start-up imports OpenCV)

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")


def _run_child_until_killed(data_dir: Path, stderr_path: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with open(stderr_path, "wb") as stderr:
        child = subprocess.Popen([sys.executable, str(CHILD), str(data_dir)], stdout=subprocess.PIPE,
                                 stderr=stderr, env=env, text=True)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in child.stdout], daemon=True)
    reader.start()
    try:
        session_id = lines.get(timeout=LINE_WAIT_S).split()[1]
        for _ in range(SEGMENTS_BEFORE_KILL):
            assert lines.get(timeout=LINE_WAIT_S).startswith("closed")
    except queue.Empty:
        child.kill()
        raise AssertionError(f"the child stalled: {stderr_path.read_text()}") from None
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        reader.join()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return session_id


def test_sigkill_mid_recording_leaves_a_sound_store(data_dir, tmp_path):
    session_id = _run_child_until_killed(data_dir, tmp_path / "child-stderr.txt")
    folder = data_dir / "video" / session_id

    assert len(list(folder.glob(f"*{PARTIAL_SUFFIX}"))) <= 1
    with Store.open(data_dir) as store:
        assert store.integrity_problems() == []
        segments = store.video_segments(session_id)
        assert segments  # the latest closed ones may not have been committed when the kill came
        for segment in segments:
            assert is_playable(store.segment_file(segment), segment.frame_count)
            assert sha256_of(store.segment_file(segment)) == segment.sha256
        samples = store.hr_samples(session_id)
        assert samples and all(s.rr_intervals_s == (0.5,) for s in samples)

        assert store.recover_interrupted() == [session_id]
        detail = store.session(session_id)
        assert detail.status == "interrupted" and detail.ended_mono_s >= samples[-1].t_mono_s
    assert not list(folder.glob(f"*{PARTIAL_SUFFIX}"))
    indexed = {store_path.name for store_path in (Path(s.path) for s in segments)}
    for leftover in set(p.name for p in folder.glob(f"*{SEGMENT_SUFFIX}")) - indexed:
        assert is_playable(folder / leftover)  # closed but not yet indexed when killed: kept, and it plays
