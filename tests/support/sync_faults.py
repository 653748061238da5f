"""Sync under a bad network and a dying service: the rig the fault tests and `make soak` share.

A laptop store with real recorded sessions (heart rate, RR, marks, and opaque video segment files:
the service never decodes video), enrolled through a `TcpProxy` in front of the service. Each pass
of the real `SyncEngine` runs with the proxy set to cut the connection at a random byte; some
passes also kill the service process (-9) at a random moment and start it again. At the end every
session must be in the cloud exactly once, with the hash the laptop computed.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from cloud_client.client import CloudClient, Timeouts
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.store import Store, VideoSegment
from desktop.sync.credentials import TokenStore
from desktop.sync.engine import SyncEngine, enrol
from tests.support.tcp_proxy import TcpProxy

RIG_TIMEOUTS = Timeouts(connect_s=2.0, read_s=20.0)  # a cut shows up fast; a commit on a busy machine takes time
CHUNK_BYTES = 32 * 1024  # small chunks: a session is many PATCHes, so cuts land inside uploads
VIDEO_BYTES = 96 * 1024  # one opaque segment file per session
SAMPLES = 600  # heart-rate samples per athlete per session
DAY_S = 86_400.0


class SteppingClock:
    """The sync's clock: each read is a day later, so every item is due on every pass."""

    def __init__(self) -> None:
        self.now_s = 1_000_000.0

    def __call__(self) -> float:
        self.now_s += DAY_S
        return self.now_s


@dataclass
class FaultResult:
    sessions: int = 0
    cuts: int = 0
    kills: int = 0
    passes: int = 0
    lost: int = 0
    duplicates: int = 0


def record_with_video(store: Store, rng: random.Random, names=("Ana", "Ben")) -> str:
    """A finished session: two consenting athletes, heart rate with RR, and one video segment file."""
    session_id = store.create_session(started_wall_utc=datetime.now(timezone.utc), started_mono_s=0.0,
                                      hr_specs=["sim:2"], camera_spec="synthetic")
    for i, name in enumerate(names, start=1):
        athlete = store.athlete_by_name(name) or store.add_athlete(name, 190, 50, consent_cloud=True, consent_training=True)
        store.add_channel(session_id, f"sim-{i}", name, athlete.id)
        store.write_events(session_id, [HeartRateSample(f"sim-{i}", k * 0.5, rng.randint(60, 190),
                                                        (rng.uniform(0.3, 1.2),)) for k in range(SAMPLES)])
    video = rng.randbytes(VIDEO_BYTES)
    relative = PurePosixPath("video") / session_id / "seg-000000.avi"
    (store.data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
    (store.data_dir / relative).write_bytes(video)
    store.add_video_segment(session_id, VideoSegment(relative, 0.0, 2.0, 60, 30.0, "MJPG",
                                                     hashlib.sha256(video).hexdigest()))
    store.finish_session(session_id, ended_mono_s=SAMPLES * 0.5)
    return session_id


class SyncFaultRig:
    """One laptop, one proxy, one service (a ServiceThread, or a ServiceProcess that may be killed)."""

    def __init__(self, laptop_dir: Path, service, *, seed: int = 0):
        self.laptop_dir = Path(laptop_dir)
        self.service = service
        self.rng = random.Random(seed)
        self.proxy = TcpProxy(service.port)
        self.clock = SteppingClock()
        self.result = FaultResult()

    def __enter__(self) -> "SyncFaultRig":
        self.proxy.__enter__()
        self.enrolment = enrol(self.laptop_dir, self.proxy.url, self.service.enrol_code("Lions"), allow_http=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.proxy.__exit__(*exc)

    def engine(self) -> SyncEngine:
        return SyncEngine(self.laptop_dir, clock=self.clock, timeouts=RIG_TIMEOUTS, chunk_bytes=CHUNK_BYTES)

    def record(self, count: int) -> None:
        with Store.open(self.laptop_dir) as store:
            for _ in range(count):
                record_with_video(store, self.rng)
        self.result.sessions += count

    def pending_bytes(self) -> int:
        """About how many bytes the next pass would send (a cut is drawn below this)."""
        with Store.open(self.laptop_dir) as store:
            store.enqueue_finished_sessions()
            items = store.outbox_items(states=("pending", "failed"))
        per_session = VIDEO_BYTES + 2 * SAMPLES * 12  # video, and about 12 compressed bytes a sample
        return max(1, sum((i.size_bytes or per_session) - i.sent_bytes for i in items))

    def cut_pass(self, kill=None) -> None:
        """One sync pass with a cut somewhere in it (and, if given, `kill()` run at a random moment)."""
        before = self.proxy.cuts
        self.proxy.cut_after_bytes(self.rng.randrange(self.pending_bytes() + 1))
        if kill is None:
            self.engine().run_once()
        else:
            self._pass_with_kill(kill)
        self.proxy.cut_after_bytes(None)
        self.result.cuts += self.proxy.cuts - before
        self.result.passes += 1

    def _pass_with_kill(self, kill) -> None:
        done = threading.Event()
        syncing = threading.Thread(target=lambda: (self.engine().run_once(), done.set()), name="sync-pass")
        syncing.start()
        done.wait(self.rng.uniform(0.0, 1.5))  # the kill falls at a random moment of the pass (or after it)
        kill()
        self.result.kills += 1
        syncing.join()

    def run_cuts(self, target_cuts: int, *, kill=None, kill_every: int = 0) -> None:
        """Cut passes until `target_cuts` connections were cut, recording a session whenever none waits."""
        for trial in range(target_cuts * 5):
            if self.result.cuts >= target_cuts:
                return
            if not self._waiting():
                self.record(1)
            killing = kill is not None and kill_every and trial % kill_every == kill_every - 1
            self.cut_pass(kill=kill if killing else None)

    def _waiting(self) -> bool:
        with Store.open(self.laptop_dir) as store:
            store.enqueue_finished_sessions()
            return bool(store.outbox_items(states=("pending", "failed")))

    def finish(self, max_passes: int = 50) -> None:
        """Sync with a sound network until the outbox is empty (or `max_passes` have run)."""
        for _ in range(max_passes):
            with Store.open(self.laptop_dir) as store:
                store.retry_failed()
            self.engine().run_once()
            self.result.passes += 1
            with Store.open(self.laptop_dir) as store:
                if not store.outbox_items(states=("pending", "failed")):
                    return

    def count_damage(self) -> FaultResult:
        """Sessions not in the cloud with the laptop's hash (lost), and sessions or parts in it twice."""
        with Store.open(self.laptop_dir) as store:
            local = {s.id: store.synced_session(s.id) for s in store.list_sessions()}
        token = TokenStore(self.laptop_dir).load(self.enrolment["device_id"])
        with CloudClient(self.service.url, token, allow_http=True, timeouts=RIG_TIMEOUTS) as client:
            in_cloud = client.sessions()
        by_id: dict[str, list[dict]] = {}
        for entry in in_cloud:
            by_id.setdefault(entry["session_id"], []).append(entry)
        for session_id, synced in local.items():
            found = by_id.get(session_id, [])
            if synced is None or not found or found[0]["sha256"] != synced.sha256:
                self.result.lost += 1
        expected_parts = 3  # two athletes and one video segment
        self.result.duplicates = sum(len(found) - 1 + max(0, found[0]["parts"] - expected_parts)
                                     for found in by_id.values())
        self.result.duplicates += len(set(by_id) - set(local))
        return self.result
