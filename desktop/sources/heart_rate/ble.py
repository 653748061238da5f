"""A Bluetooth LE heart-rate strap (Heart Rate Service 0x180D) as a heart-rate source.

One source follows one strap (`ble:AA:BB:CC:DD:EE:FF`, or `ble:any` for the first strap found,
which it then keeps). It runs an asyncio loop on its own thread with real bleak: scan for the
service, connect, subscribe to Heart Rate Measurement (0x2A37). The notification callback only
stamps the arrival time and queues the raw bytes; a consumer task parses them and puts events on
the sink in arrival order. Link losses (a disconnection, or `watchdog_s` without a notification)
go through the same queue, so a gap starts exactly after the last sample that arrived before it.
After a loss the source reconnects with a fresh BleakClient per try, as `reconnect.py` paces it;
a strap that cannot be found becomes a fatal `device_absent` problem, never an exception.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice

from desktop.sources.events import RECONNECTING, ChannelOpened, SignalGap, Sink, SourceProblem
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.sources.heart_rate.measurement import MalformedMeasurement, parse_heart_rate_measurement
from desktop.sources.heart_rate.reconnect import (
    FailureKind,
    NotAHeartRateStrap,
    ReconnectPolicy,
    StrapNotFound,
    classify_failure,
)

logger = logging.getLogger(__name__)

HEART_RATE_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"  # Heart Rate Service, 0x180D
HEART_RATE_MEASUREMENT_UUID = "00002a37-0000-1000-8000-00805f9b34fb"  # Heart Rate Measurement
SPEC_PREFIX = "ble:"  # spec strings: ble:<address> or ble:any
ANY_STRAP = "any"  # the spec target that takes the first strap found
DEFAULT_WATCHDOG_S = 3.0  # straps notify about once a second: three silent seconds is a loss
DEFAULT_SCAN_TIMEOUT_S = 10.0  # straps advertise every 0.1-1 s; ten seconds finds a live one
DEFAULT_CONNECT_TIMEOUT_S = 10.0  # connect + service discovery + subscribe, all together
DISCONNECT_TIMEOUT_S = 2.0  # a polite disconnect that takes longer is abandoned
WATCHDOG_CHECKS_PER_PERIOD = 4  # the watchdog looks this often per watchdog_s
_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")  # MAC or macOS UUID


class InvalidBleSpec(ValueError):
    """A `ble:` spec that names no strap: neither an address nor `any`."""


@dataclass
class BleStats:
    """What happened on the link, for the soak benchmark and the diagnostics page."""

    notifications: int = 0
    malformed: int = 0
    link_losses: int = 0
    reconnects: int = 0
    reconnect_durations_s: list[float] = field(default_factory=list)
    rr_dropped: int = 0  # RR intervals left out as no heartbeat's; their samples were kept

    def snapshot(self) -> BleStats:
        return BleStats(self.notifications, self.malformed, self.link_losses, self.reconnects,
                        list(self.reconnect_durations_s), self.rr_dropped)


@dataclass(frozen=True, slots=True)
class _Notification:
    t_mono_s: float
    payload: bytes


@dataclass(frozen=True, slots=True)
class _Connected:
    t_mono_s: float
    channel: str
    display_name: str


@dataclass(frozen=True, slots=True)
class _LinkLost:
    t_mono_s: float
    reason: str  # "disconnected" or "watchdog"


@dataclass(frozen=True, slots=True)
class _Problem:
    t_mono_s: float
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class _Finished:
    t_mono_s: float


def open_ble_source(spec: str, **kwargs: Any) -> BleHeartRateSource:
    """The heart-rate source for a `ble:<address>` or `ble:any` spec."""
    if not spec.startswith(SPEC_PREFIX):
        raise InvalidBleSpec(f"not a Bluetooth spec (must start with {SPEC_PREFIX!r}): {spec!r}")
    return BleHeartRateSource(spec[len(SPEC_PREFIX):], **kwargs)


class BleHeartRateSource:
    """One Bluetooth heart-rate strap, followed through link losses until stop()."""

    def __init__(
        self,
        target: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        client_backend: type | None = None,
        scanner_backend: type | None = None,
        watchdog_s: float = DEFAULT_WATCHDOG_S,
        scan_timeout_s: float = DEFAULT_SCAN_TIMEOUT_S,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        policy: ReconnectPolicy = ReconnectPolicy(),
    ) -> None:
        if target != ANY_STRAP and not _ADDRESS.match(target):
            raise InvalidBleSpec(f"ble target must be an address or {ANY_STRAP!r}: {target!r}")
        self.spec = SPEC_PREFIX + target
        self._address = None if target == ANY_STRAP else target.upper()
        self._clock = clock
        self._client_backend = client_backend
        self._scanner_backend = scanner_backend
        self._watchdog_s = watchdog_s
        self._scan_timeout_s = scan_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._policy = policy
        self._stats = BleStats()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._stop_t: float | None = None
        self._client: BleakClient | None = None
        self._ready = threading.Event()

    @property
    def stats(self) -> BleStats:
        """A copy of the link counters so far."""
        return self._stats.snapshot()

    def start(self, sink: Sink) -> None:
        """Begin following the strap on a thread of its own; returns at once."""
        if self._thread is not None:
            raise RuntimeError(f"{self.spec} already started")
        self._sink = sink
        self._thread = threading.Thread(target=self._thread_main, name=f"hr-{self.spec}", daemon=True)
        self._thread.start()
        self._ready.wait()

    def stop(self) -> None:
        """Disconnect, close an open gap at this moment, and return when the thread has ended."""
        if self._thread is None:
            return
        self._stop_t = self._clock()
        try:
            self._loop.call_soon_threadsafe(self._stop_requested.set)
        except RuntimeError:
            pass  # the loop is closed: the source already ended on its own (a fatal problem)
        self._thread.join()

    # --- the source thread ---------------------------------------------------------------
    def _thread_main(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._lost = asyncio.Event()
        self._ready.set()
        consumer = asyncio.create_task(self._consume())
        follow = asyncio.create_task(self._follow_strap_safely())
        stopped = asyncio.create_task(self._stop_requested.wait())
        await asyncio.wait([follow, stopped], return_when=asyncio.FIRST_COMPLETED)
        for task in (follow, stopped):
            task.cancel()  # stop() cancels whatever the source waits on: scan, backoff, watch
        await asyncio.gather(follow, stopped, return_exceptions=True)
        self._inbox.put_nowait(_Finished(self._stop_t if self._stop_t is not None else self._clock()))
        await consumer

    async def _follow_strap_safely(self) -> None:
        try:
            await self._follow_strap()
        except Exception as exc:  # a bug or an unexpected stack error: tell, never raise
            logger.exception("heart-rate source %s failed", self.spec)
            self._problem("source_failed", f"Bluetooth source stopped: {type(exc).__name__}")
        finally:
            if self._client is not None:
                await self._disconnect(self._client)

    async def _follow_strap(self) -> None:
        self._client = await self._reach_strap(lost_at=None)
        while self._client is not None:
            reason = await self._watch(self._client)
            lost_at = self._clock()
            self._inbox.put_nowait(_LinkLost(lost_at, reason))
            self._stats.link_losses += 1
            logger.info("strap %s lost (%s); reconnecting", self.spec, reason)
            client, self._client = self._client, None
            await self._disconnect(client)
            self._client = await self._reach_strap(lost_at=lost_at)

    async def _watch(self, client: BleakClient) -> str:
        """Wait until the link is lost; return why ("disconnected" or "watchdog")."""
        poll_s = self._watchdog_s / WATCHDOG_CHECKS_PER_PERIOD
        while True:
            if self._lost.is_set() or not client.is_connected:
                return "disconnected"
            if self._clock() - self._last_notification_t > self._watchdog_s:
                return "watchdog"
            try:
                await asyncio.wait_for(self._lost.wait(), poll_s)
            except TimeoutError:
                pass  # time to look at the watchdog again

    # --- reaching the strap --------------------------------------------------------------
    async def _reach_strap(self, lost_at: float | None) -> BleakClient | None:
        """Try, back off, try again; the subscribed client, or None with a fatal problem."""
        failures = 0
        try:
            async with asyncio.timeout(self._policy.overall_timeout_s):
                while True:
                    try:
                        client = await self._try_once()
                        break
                    except Exception as exc:  # every link failure; classify_failure re-raises bugs
                        if self._stop_requested.is_set():
                            return None  # stopping: a cancellation swallowed by a timeout ends here
                        kind = classify_failure(exc)
                        failures += 1
                        if not self._policy.should_retry(failures, kind):
                            return self._give_up(failures, exc)
                        await asyncio.sleep(self._policy.delay_s(kind, failures))
        except TimeoutError:
            return None if self._stop_requested.is_set() else self._give_up(failures, None)
        if lost_at is not None:
            self._stats.reconnects += 1
            self._stats.reconnect_durations_s.append(self._clock() - lost_at)
        return client

    async def _try_once(self) -> BleakClient:
        device = await self._find()
        client = self._new_client(device)
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                await self._connect_and_subscribe(client, device)
        except BaseException:
            await self._disconnect(client)
            raise
        return client

    async def _find(self) -> BLEDevice:
        wanted = self._address
        device = await BleakScanner.find_device_by_filter(
            lambda found, _adv: wanted is None or found.address.upper() == wanted,
            timeout=self._scan_timeout_s,
            service_uuids=[HEART_RATE_SERVICE_UUID],
            **self._backend_kw(self._scanner_backend),
        )
        if device is None:
            raise StrapNotFound(f"no heart-rate strap {self.spec} advertising")
        self._address = device.address.upper()  # ble:any keeps the strap it found
        return device

    def _new_client(self, device: BLEDevice) -> BleakClient:
        """A fresh client per try: a client that once failed keeps stale state in some stacks."""
        self._lost = asyncio.Event()
        lost, loop = self._lost, self._loop
        return BleakClient(
            device,
            disconnected_callback=lambda _client: loop.call_soon_threadsafe(lost.set),
            timeout=self._connect_timeout_s,
            **self._backend_kw(self._client_backend),
        )

    async def _connect_and_subscribe(self, client: BleakClient, device: BLEDevice) -> None:
        await client.connect()
        if client.services.get_characteristic(HEART_RATE_MEASUREMENT_UUID) is None:
            raise NotAHeartRateStrap(f"{device.address} has no Heart Rate Measurement")
        self._last_notification_t = self._clock()
        self._inbox.put_nowait(_Connected(self._clock(), device.address.upper(), device.name or device.address))
        await client.start_notify(HEART_RATE_MEASUREMENT_UUID, self._on_notification)

    def _on_notification(self, _characteristic: object, data: bytearray) -> None:
        """bleak's callback: stamp, queue the raw bytes, nothing else."""
        t_mono_s = self._clock()
        self._last_notification_t = t_mono_s
        self._inbox.put_nowait(_Notification(t_mono_s, bytes(data)))

    def _give_up(self, failures: int, exc: BaseException | None) -> None:
        if exc is not None and classify_failure(exc) is FailureKind.NO_BLUETOOTH:
            self._problem("no_bluetooth", "this computer has no usable Bluetooth "
                          f"({type(exc).__name__}: {exc}); is the adapter on and the Bluetooth service running?")
            return None
        why = "no time left" if exc is None else type(exc).__name__
        logger.warning("strap %s unreachable after %d tries (%s)", self.spec, failures, why)
        self._problem("device_absent", f"strap {self.spec} not reachable after {failures} tries ({why})")
        return None

    async def _disconnect(self, client: BleakClient) -> None:
        try:
            async with asyncio.timeout(DISCONNECT_TIMEOUT_S):
                await client.disconnect()
        except (asyncio.TimeoutError, Exception):  # the link is going anyway; nothing to keep
            logger.debug("disconnect of %s did not complete cleanly", self.spec, exc_info=True)

    @staticmethod
    def _backend_kw(backend: type | None) -> dict[str, type]:
        return {} if backend is None else {"backend": backend}

    def _problem(self, kind: str, message: str) -> None:
        """A fatal problem, queued so it reaches the sink after the samples before it."""
        self._inbox.put_nowait(_Problem(self._clock(), kind, message))

    # --- the consumer: raw bytes in arrival order to events --------------------------------
    async def _consume(self) -> None:
        state = _ChannelState()
        while True:
            item = await self._inbox.get()
            if isinstance(item, _Finished):
                self._close_gap(state, item.t_mono_s)
                return
            self._handle(state, item)

    def _handle(self, state: _ChannelState, item: object) -> None:
        if isinstance(item, _Notification):
            self._on_payload(state, item)
        elif isinstance(item, _Connected):
            self._on_connected(state, item)
        elif isinstance(item, _Problem):
            self._close_gap(state, item.t_mono_s)
            channel = state.channel or self._address or self.spec
            self._sink(SourceProblem(channel, item.t_mono_s, item.kind, item.message, fatal=True))
        elif isinstance(item, _LinkLost) and state.gap is None and state.channel is not None:
            state.gap = (state.last_sample_t if state.last_sample_t is not None else item.t_mono_s, item.reason)
            self._sink(SourceProblem(state.channel, item.t_mono_s, RECONNECTING,
                                     f"strap link lost ({item.reason}); reconnecting"))

    def _on_connected(self, state: _ChannelState, item: _Connected) -> None:
        if state.channel is None:
            state.channel = item.channel
            self._sink(ChannelOpened(item.channel, item.display_name, item.t_mono_s))

    def _on_payload(self, state: _ChannelState, item: _Notification) -> None:
        self._stats.notifications += 1
        try:
            measurement = parse_heart_rate_measurement(item.payload)
        except MalformedMeasurement as exc:
            self._stats.malformed += 1
            self._sink(SourceProblem(state.channel, item.t_mono_s, "malformed_packet", str(exc)))
            return
        self._close_gap(state, item.t_mono_s)
        state.last_sample_t = item.t_mono_s
        self._stats.rr_dropped += measurement.rr_dropped
        self._sink(HeartRateSample(
            state.channel, item.t_mono_s, measurement.hr_bpm, measurement.rr_intervals_s,
            measurement.sensor_contact, measurement.energy_expended_kj, rr_dropped=measurement.rr_dropped,
        ))

    def _close_gap(self, state: _ChannelState, end_t: float) -> None:
        if state.gap is None:
            return
        start_t, reason = state.gap
        state.gap = None
        self._sink(SignalGap(state.channel, start_t, end_t, reason))


@dataclass
class _ChannelState:
    """What the consumer remembers about its channel between queue items."""

    channel: str | None = None
    last_sample_t: float | None = None
    gap: tuple[float, str] | None = None  # (start_mono_s, reason) of an open gap
