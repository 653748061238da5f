"""Open the sessions review, athletes, models and crash-recovery screens on real data and save PNGs.

`python -m desktop.ui.screens_demo [OUT_DIR]` records a short session in a scratch data directory
(simulated athletes, the real Sports2D clip with the pose and movement models running), kills a
second recording mid-way (so there is an interrupted session to recover), installs two model
updates (so there is a previous slot), then grabs each screen at laptop size into OUT_DIR
(default docs/screenshots): review.png, athletes.png, models.png, recovery.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from desktop.recorder import AthleteProfile, Recorder
from desktop.sources.camera import open_camera
from desktop.sources.heart_rate import open_heart_rate_source
from desktop.store import Store
from edge_models.manifest import load_manifest
from edge_models.model_store import BUNDLED_MODELS_DIR, MANIFEST_FILE, MODEL_FILE, ModelStore

logger = logging.getLogger(__name__)

SCREEN_SIZE_PX = (1366, 768)  # the smallest laptop screen the window must serve
DEMO_SQUAD = (("Ana", 195, 48), ("Ben", 188, 55), ("Chloe", 201, 52))
DEMO_RECORDING_S = 24.0
KILLED_RECORDING_S = 6.0  # how long the recording that 'crashes' runs before it is killed
CHILD_TIMEOUT_S = 60.0
REPO_ROOT = Path(__file__).resolve().parents[2]


def add_squad(data_dir: Path, squad=DEMO_SQUAD) -> dict[str, AthleteProfile]:
    """The athletes in the store, wearing sim-1, sim-2, ...; returns who wears which channel."""
    profiles = {}
    with Store.open(data_dir) as store:
        for number, (name, hr_max, hr_rest) in enumerate(squad, start=1):
            athlete = store.athlete_by_name(name) or store.add_athlete(name, hr_max, hr_rest)
            profiles[f"sim-{number}"] = AthleteProfile(athlete.id, name, hr_max, hr_rest, athlete.consent_record)
    return profiles


def record_session(data_dir: Path, *, hr_spec: str, camera_spec: str | None, duration_s: float,
                   feedback: bool = False, realtime_camera: bool = True, squad=DEMO_SQUAD,
                   hr_timeline_s: float | None = None) -> str:
    """Record one session with the real recorder for `duration_s` of wall time; its id.

    `hr_timeline_s` ends the heart-rate source after that much of its own timeline (for `speed=inf`).
    """
    athletes = add_squad(data_dir, squad)
    camera = open_camera(camera_spec, realtime=realtime_camera) if camera_spec else None
    recorder = Recorder(data_dir, [open_heart_rate_source(hr_spec, duration_s=hr_timeline_s)], camera,
                        athletes=athletes)
    if feedback:
        from desktop.feedback import attach_feedback

        attach_feedback(recorder, data_dir, camera=camera is not None)
    session_id = recorder.start()
    recorder.wait(duration_s)
    recorder.stop()
    return session_id


def record_then_kill(data_dir: Path, *args: str, until) -> None:
    """Run `trackside record --headless ARGS` in a child process and SIGKILL it once `until()` holds."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "desktop.cli", "record", "--headless", "--no-feedback",
                              "--data-dir", str(data_dir), *args], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + CHILD_TIMEOUT_S
        pause = threading.Event()
        while not until():
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the recording to be killed ended or stalled first")
            pause.wait(0.1)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()


def install_updates(models_dir: Path, kind: str = "movement", versions=("1.1.0", "1.2.0")) -> ModelStore:
    """Install the bundled model again under newer versions, so the store has an active and a previous slot."""
    store = ModelStore(models_dir, bundled_dir=BUNDLED_MODELS_DIR)
    bundled = BUNDLED_MODELS_DIR / kind
    for version in versions:
        manifest = dataclasses.replace(load_manifest(bundled / MANIFEST_FILE), version=version)
        store.install(kind, bundled / MODEL_FILE, manifest)
    return store


def grab(widget, path: Path, size=SCREEN_SIZE_PX, settle=lambda: True) -> Path:
    """Show `widget` at `size`, let it finish its background reads, save it as a PNG."""
    from desktop.ui.qt import QApplication

    widget.resize(*size)
    widget.show()
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while not settle() and time.monotonic() < deadline:
        QApplication.processEvents()
        threading.Event().wait(0.02)
    for _ in range(5):
        QApplication.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(path))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="docs/screenshots")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from desktop.ui.qt import QApplication

    from desktop.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)  # the window's high-contrast theme, as in the app
    with tempfile.TemporaryDirectory(prefix="trackside-screens-") as scratch:
        for path in shoot_all(Path(scratch) / "data", Path(args.out_dir)):
            print(path)
    app.processEvents()
    return 0


def shoot_all(data_dir: Path, out_dir: Path) -> list[Path]:
    from edge_models.assets import asset_path

    data_dir.mkdir(parents=True, exist_ok=True)
    clip = asset_path("demo.mp4")
    session_id = record_session(data_dir, hr_spec="sim:3?speed=6", camera_spec=f"file:{clip}?loop=1",
                                duration_s=DEMO_RECORDING_S, feedback=True)
    written = [shoot_review(data_dir, session_id, out_dir / "review.png"),
               shoot_athletes(data_dir, out_dir / "athletes.png"),
               shoot_models(data_dir, out_dir / "models.png")]
    killed_has_samples = _samples_counter(data_dir)
    record_then_kill(data_dir, "--hr", "sim:2", "--camera", "synthetic:320x240@30",
                     "--athlete", "sim-1=Ana", "--athlete", "sim-2=Ben",
                     until=lambda: killed_has_samples() >= 2 * KILLED_RECORDING_S)
    written.append(shoot_recovery(data_dir, out_dir / "recovery.png"))
    return written


def _samples_counter(data_dir: Path):
    before = _count_samples(data_dir)
    return lambda: _count_samples(data_dir) - before


def _count_samples(data_dir: Path) -> int:
    with Store.open(data_dir) as store:
        return sum(c.sample_count for s in store.list_sessions() for c in s.channels)


def shoot_review(data_dir: Path, session_id: str, path: Path) -> Path:
    from desktop.ui.sessions_screen import SessionsScreen

    with Store.open(data_dir) as store:
        detail = store.session(session_id)
        start = detail.started_mono_s
        store.add_label(session_id, start_mono_s=start + 4, end_mono_s=start + 9, label="walk")
        store.add_label(session_id, start_mono_s=start + 11, end_mono_s=start + 15, label="jump", channel="sim-1")
        screen = SessionsScreen(store)
        ready = []
        screen.review_ready.connect(lambda: ready.append(True))
        screen.open_session(session_id)
        grab(screen, path, settle=lambda: bool(ready))
        screen.playhead.move_to(12.0)
        screen.select_range(16.0, 19.5)
        grab(screen, path, settle=lambda: screen.shown_frame is not None and not screen._decoder.busy)
        screen.shutdown()
        screen.close()
    return path


def shoot_athletes(data_dir: Path, path: Path) -> Path:
    from desktop.ui.athletes_screen import AthletesScreen

    with Store.open(data_dir) as store:
        ana = store.athlete_by_name("Ana")
        store.set_consent(ana.id, cloud=True, training=True)
        store.pair_strap(ana.id, "D0:00:00:00:00:0A", "Polar H10 A")
        store.set_consent(store.athlete_by_name("Chloe").id, False)
        screen = AthletesScreen(store)
        screen.select_athlete("Ana")
        grab(screen, path)
        screen.close()
    return path


def shoot_models(data_dir: Path, path: Path) -> Path:
    from desktop.ui.models_screen import ModelsScreen

    screen = ModelsScreen(install_updates(data_dir / "models"))
    grab(screen, path)
    screen.close()
    return path


def shoot_recovery(data_dir: Path, path: Path) -> Path:
    from desktop.ui.recovery import RecoveryDialog

    with Store.open(data_dir) as store:
        recovered = store.recover_interrupted()
        dialog = RecoveryDialog([store.session(s) for s in recovered], store)
        grab(dialog, path, size=(dialog.width(), dialog.height()))
        dialog.close()
    return path


if __name__ == "__main__":
    raise SystemExit(main())
