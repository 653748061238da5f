"""A bleak backend on the bumble Bluetooth stack, and virtual heart-rate straps to talk to.

These machines have no Bluetooth in the kernel, so bleak's own backends cannot run. Here the
product's real `bleak.BleakClient` / `bleak.BleakScanner` code runs unchanged; only the bottom
layer (what BlueZ or CoreBluetooth would be) is bumble: real controllers on a `LocalLink`, a real
host stack, real advertising, connections, ATT/GATT discovery, CCCD writes and notifications.

Threads and loops (the design choice): bumble calls `asyncio.get_running_loop()` everywhere, so
every bumble object of one radio world must live in one loop. A `VirtualRadio` owns that loop on
its own thread, like an operating system's Bluetooth daemon lives outside the app. Each product
source keeps its own loop on its own thread; the backend classes below marshal each call into
the radio loop (`run_coroutine_threadsafe`) and each notification, advertisement and
disconnection back into the caller's loop (`call_soon_threadsafe`), as BlueZ's D-Bus does. So
several sources (one per strap) share one radio, and a test drives the straps from its own
thread with plain blocking calls.

The laptop side is one bumble device (the "adapter"); scans of several clients are multiplexed on
it and its connection attempts are serialised (an LE controller takes one at a time).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid as uuid_module
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bumble import gatt, hci
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from desktop.sources.heart_rate.measurement import encode_heart_rate_measurement

logger = logging.getLogger(__name__)

HEART_RATE_SERVICE = "0000180d-0000-1000-8000-00805f9b34fb"  # Heart Rate Service, 0x180D
HEART_RATE_MEASUREMENT = "00002a37-0000-1000-8000-00805f9b34fb"  # Heart Rate Measurement, 0x2A37
BODY_SENSOR_LOCATION = "00002a38-0000-1000-8000-00805f9b34fb"  # Body Sensor Location, 0x2A38
BODY_SENSOR_LOCATION_CHEST = 0x01  # Body Sensor Location value for "chest"
ADAPTER_ADDRESS = "C0:FF:EE:00:00:01"  # the laptop's virtual adapter (random static address)
STRAP_ADVERTISING_INTERVAL_MS = 20.0  # the shortest interval the standard allows: fast finds
ATT_DEFAULT_MTU = 23  # bytes; no MTU exchange is made
RADIO_CALL_TIMEOUT_S = 10.0  # a test's blocking call into the radio that takes longer is a bug
RADIO_START_TIMEOUT_S = 10.0  # powering the adapter on the link takes milliseconds


class VirtualRadio:
    """A Bluetooth world: one link, the laptop's adapter, and the straps the tests add."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="virtual-radio")
        self._thread.start()
        self.link: LocalLink | None = None
        self.adapter: Device | None = None
        self._scanners: set[Callable[[Advertisement], None]] = set()
        self._connect_lock: asyncio.Lock | None = None
        self.straps: list[VirtualStrap] = []
        self.run(self._power_on(), timeout_s=RADIO_START_TIMEOUT_S)

    # --- calls from other threads -------------------------------------------------------
    def run(self, coro: Coroutine[Any, Any, Any], timeout_s: float = RADIO_CALL_TIMEOUT_S) -> Any:
        """Run `coro` in the radio loop and wait for its result (for test threads)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    async def call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run `coro` in the radio loop from another running loop (for the bleak backends)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def post(self, fn: Callable[[], None]) -> None:
        """Run `fn` soon in the radio loop."""
        self._loop.call_soon_threadsafe(fn)

    def add_strap(self, address: str, name: str = "HR strap") -> VirtualStrap:
        """Power on a virtual strap that advertises the Heart Rate Service."""
        strap = VirtualStrap(self, address, name)
        self.run(strap._power_on())
        self.straps.append(strap)
        return strap

    def backends(self) -> tuple[type[BaseBleakClient], type[BaseBleakScanner]]:
        """bleak backend classes bound to this radio, for `backend=` (client, scanner)."""
        client = type("BumbleBleakClient", (BumbleBleakClient,), {"radio": self})
        scanner = type("BumbleBleakScanner", (BumbleBleakScanner,), {"radio": self})
        return client, scanner

    def close(self) -> None:
        """Power everything off and end the radio thread."""
        if not self._thread.is_alive():
            return
        try:
            self.run(self._power_off())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> VirtualRadio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- inside the radio loop --------------------------------------------------------------
    async def _power_on(self) -> None:
        self.link = LocalLink()
        self._connect_lock = asyncio.Lock()
        self.adapter = make_device(self.link, "laptop adapter", ADAPTER_ADDRESS)
        self.adapter.on(self.adapter.EVENT_ADVERTISEMENT, self._on_advertisement)
        await self.adapter.power_on()

    async def _power_off(self) -> None:
        for strap in self.straps:
            await strap._power_off()
        if self.adapter is not None:
            await self.adapter.power_off()

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        for deliver in list(self._scanners):
            deliver(advertisement)

    async def add_scanner(self, deliver: Callable[[Advertisement], None]) -> None:
        if not self._scanners:
            await self.adapter.start_scanning(filter_duplicates=False)
        self._scanners.add(deliver)

    async def remove_scanner(self, deliver: Callable[[Advertisement], None]) -> None:
        self._scanners.discard(deliver)
        if not self._scanners and self.adapter.is_scanning:
            await self.adapter.stop_scanning()

    async def connect(self, address: str, timeout_s: float) -> Connection:
        async with self._connect_lock:
            return await self.adapter.connect(
                hci.Address(address), own_address_type=hci.OwnAddressType.RANDOM,
                timeout=timeout_s,
            )


def make_device(link: LocalLink, name: str, address: str) -> Device:
    """A bumble device with its own controller on `link`."""
    controller = Controller(name, link=link)
    host = Host(controller, AsyncPipeSink(controller))
    return Device(name=name, address=hci.Address(address), host=host)


@dataclass(frozen=True)
class SentNotification:
    """What a virtual strap put on air, and whether a subscribed central could receive it."""

    t_mono_s: float
    payload: bytes
    delivered: bool  # the GATT server sent it on a live, subscribed link it had not cut
    rr_intervals_s: tuple[float, ...]
    link: int = 0  # which connection of the strap was up when it was sent (1 = the first)


NUMBERED_RR_BASE_UNITS = 300  # numbered RR intervals lie in 300..1299 / 1024 s (0.29-1.27 s, plausible)
NUMBERED_RR_SPAN = 1000  # each of the two RR intervals carries three decimal digits of the number


def numbered_rr_s(number: int) -> tuple[float, float]:
    """Two plausible RR intervals (exact in 1/1024 s) that carry `number` (0..999 999)."""
    high, low = divmod(number, NUMBERED_RR_SPAN)
    if not 0 <= high < NUMBERED_RR_SPAN:
        raise ValueError(f"a numbered notification counts from 0 to {NUMBERED_RR_SPAN ** 2 - 1}")
    return ((NUMBERED_RR_BASE_UNITS + high) / 1024, (NUMBERED_RR_BASE_UNITS + low) / 1024)


def number_of(rr_intervals_s: tuple[float, ...]) -> int | None:
    """The number `numbered_rr_s` put into two RR intervals; None for other RR intervals."""
    if len(rr_intervals_s) != 2:
        return None
    high, low = (round(rr * 1024) - NUMBERED_RR_BASE_UNITS for rr in rr_intervals_s)
    if not (0 <= high < NUMBERED_RR_SPAN and 0 <= low < NUMBERED_RR_SPAN):
        return None
    return high * NUMBERED_RR_SPAN + low


class VirtualStrap:
    """A chest strap: a GATT server with the Heart Rate Service that advertises 0x180D.

    A test drives it from its own thread: `send`, `notify`, `inject`, `drop_link`, or
    `start_stream` for a strap that notifies numbered measurements on its own, connected or not,
    as a real strap does. It keeps a record of every notification, and whether its GATT server
    sent it on a live subscribed link, so a test can check that nothing sent while the link was
    up was lost or received twice.
    """

    def __init__(self, radio: VirtualRadio, address: str, name: str) -> None:
        self.radio = radio
        self.address = address
        self.name = name
        self.sent: list[SentNotification] = []
        self.connections_made = 0
        self.links_cut = 0  # live connections the strap itself ended (drop_link)
        self._connection: Connection | None = None
        self._subscribed = False
        self._powered = False
        self._device: Device | None = None
        self._readvertising: asyncio.Task | None = None
        self._stream: asyncio.Task | None = None
        self._measurement: gatt.Characteristic | None = None
        self._lock = threading.Lock()
        self.subscribed_event = threading.Event()  # set on each new subscription

    # --- driven by tests ----------------------------------------------------------------
    def send(self, hr_bpm: int, rr_s: tuple[float, ...] = (), **fields: Any) -> SentNotification:
        """Notify one well-formed measurement (RR rounded to 1/1024 s as a strap does)."""
        payload = encode_heart_rate_measurement(hr_bpm, rr_intervals_s=rr_s, **fields)
        exact_rr_s = tuple(round(r * 1024) / 1024 for r in rr_s)
        return self.radio.run(self._notify(payload, exact_rr_s))

    def notify(self, payload: bytes) -> SentNotification:
        """Notify raw bytes as they are (a well-formed or a broken measurement)."""
        return self.radio.run(self._notify(bytes(payload), ()))

    inject = notify  # a malformed packet is just raw bytes on air

    def drop_link(self, after_s: float = 0.0) -> None:
        """The strap ends the connection (out of range, battery contact): then it re-advertises.

        `after_s` lets the strap's own clock pick the moment, so a drop can fall anywhere between
        two notifications of a stream; the call returns once the link is down.
        """
        self.radio.run(self._drop_link(after_s))

    def start_stream(self, period_s: float, hr_bpm: int = 60, first_number: int = 0) -> None:
        """Notify a numbered measurement (`numbered_rr_s`) every `period_s` until stop_stream()."""
        self.radio.run(self._start_stream(period_s, hr_bpm, first_number))

    def stop_stream(self) -> None:
        """End the stream; returns after its last notification was sent."""
        self.radio.run(self._stop_stream())

    def delivered_on_link(self, link: int) -> int:
        """How many notifications the GATT server sent on live connection number `link`."""
        return sum(1 for item in list(self.sent) if item.delivered and item.link == link)

    def power_off(self) -> None:
        """The strap goes silent and stops advertising (taken off, battery out)."""
        self.radio.run(self._power_off())

    @property
    def is_subscribed(self) -> bool:
        with self._lock:
            return self._connection is not None and self._subscribed

    def delivered_rr_s(self) -> list[float]:
        """Every RR interval sent while a central was connected and subscribed, in order."""
        return [rr for item in self.sent if item.delivered for rr in item.rr_intervals_s]

    # --- inside the radio loop --------------------------------------------------------------
    async def _power_on(self) -> None:
        self._device = make_device(self.radio.link, self.name, self.address)
        self._measurement = gatt.Characteristic(
            HEART_RATE_MEASUREMENT, gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.Permissions(0), b"",
        )
        self._measurement.on(self._measurement.EVENT_SUBSCRIPTION, self._on_subscription)
        location = gatt.Characteristic(
            BODY_SENSOR_LOCATION, gatt.Characteristic.Properties.READ,
            gatt.Characteristic.READABLE, bytes([BODY_SENSOR_LOCATION_CHEST]),
        )
        self._device.add_service(gatt.Service(HEART_RATE_SERVICE, [self._measurement, location]))
        self._device.on(self._device.EVENT_CONNECTION, self._on_connection)
        await self._device.power_on()
        self._powered = True
        await self._advertise()

    async def _advertise(self) -> None:
        data = AdvertisingData([
            (AdvertisingData.FLAGS, bytes([0x06])),  # LE general discoverable, no BR/EDR
            (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, UUID("180D").to_bytes()),
            (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
        ])
        await self._device.start_advertising(
            advertising_data=bytes(data),
            advertising_interval_min=STRAP_ADVERTISING_INTERVAL_MS,
            advertising_interval_max=STRAP_ADVERTISING_INTERVAL_MS,
        )

    def _live_subscription(self) -> tuple[Connection, int] | None:
        """The connection the GATT server would notify on now, with its number; None when none.

        Asked of the server itself: the connection is up and not being cut by the strap, and the
        server holds the central's CCCD write enabling notifications of 0x2A37 on it.
        """
        with self._lock:
            connection, link = self._connection, self.connections_made
        if connection is None or connection.handle not in self._device.connections:
            return None
        cccd = self._device.gatt_server.subscribers.get(connection, {}).get(self._measurement.handle)
        return (connection, link) if cccd and cccd[0] & 0x01 else None

    def _on_connection(self, connection: Connection) -> None:
        with self._lock:
            self._connection = connection
            self._subscribed = False
            self.connections_made += 1
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)

    def _on_disconnection(self, _reason: int) -> None:
        with self._lock:
            self._connection = None
            self._subscribed = False
        if self._powered:
            self._readvertising = asyncio.get_running_loop().create_task(self._advertise())

    def _on_subscription(self, _bearer: Any, notify_enabled: bool, _indicate: bool) -> None:
        with self._lock:
            self._subscribed = notify_enabled and self._connection is not None
        if notify_enabled:
            self.subscribed_event.set()

    async def _notify(self, payload: bytes, rr_s: tuple[float, ...]) -> SentNotification:
        live = self._live_subscription()
        if live is not None:
            await self._device.notify_subscriber(live[0], self._measurement, payload)
        record = SentNotification(time.monotonic(), payload, live is not None, rr_s,
                                  live[1] if live is not None else 0)
        self.sent.append(record)
        return record

    async def _start_stream(self, period_s: float, hr_bpm: int, first_number: int) -> None:
        await self._stop_stream()
        self._stream = asyncio.get_running_loop().create_task(
            self._notify_numbered(period_s, hr_bpm, first_number))

    async def _notify_numbered(self, period_s: float, hr_bpm: int, number: int) -> None:
        while True:
            rr_s = numbered_rr_s(number)
            await self._notify(encode_heart_rate_measurement(hr_bpm, rr_intervals_s=rr_s), rr_s)
            number += 1
            await asyncio.sleep(period_s)

    async def _stop_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.cancel()
            await asyncio.gather(stream, return_exceptions=True)

    async def _drop_link(self, after_s: float = 0.0) -> None:
        if after_s > 0:
            await asyncio.sleep(after_s)
        with self._lock:  # from here on the strap counts the link as cut: nothing sent is owed
            connection, self._connection, self._subscribed = self._connection, None, False
        if connection is not None:
            self.links_cut += 1
            await connection.disconnect()

    async def _power_off(self) -> None:
        if not self._powered:
            return
        self._powered = False
        await self._stop_stream()
        await self._drop_link()
        if self._readvertising is not None:
            await self._readvertising
        await self._device.power_off()  # a controller reset also ends its advertising


class BumbleBleakScanner(BaseBleakScanner):
    """bleak scanner backend: advertisements seen by the radio's adapter."""

    radio: VirtualRadio  # bound by VirtualRadio.backends()

    def __init__(self, detection_callback, service_uuids, scanning_mode="active", **_kw: Any):
        super().__init__(detection_callback, service_uuids)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._loop = asyncio.get_running_loop()
        await self.radio.call(self.radio.add_scanner(self._from_radio))

    async def stop(self) -> None:
        await self.radio.call(self.radio.remove_scanner(self._from_radio))

    def _from_radio(self, advertisement: Advertisement) -> None:
        """In the radio loop: hand a copy of what matters to the scanner's loop."""
        address = advertisement.address.to_string(False)
        data = advertisement.data
        uuids = [_bleak_uuid(u) for u in _flatten(data.get_all(AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS))]
        name = data.get(AdvertisingData.Type.COMPLETE_LOCAL_NAME)
        self._loop.call_soon_threadsafe(self._on_advertisement, address, name, uuids, advertisement.rssi)

    def _on_advertisement(self, address: str, name: str | None, uuids: list[str], rssi: int) -> None:
        if not self.is_allowed_uuid(uuids):
            return
        adv = AdvertisementData(name, {}, {}, uuids, None, rssi, ())
        device = self.create_or_update_device(address, address, name, None, adv)
        self.call_detection_callbacks(device, adv)


def _flatten(items: list[Any]) -> list[UUID]:
    flat: list[UUID] = []
    for item in items:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


def _bleak_uuid(uuid: UUID) -> str:
    """A bumble UUID (16, 32 or 128 bits) in bleak's form: 128 bits, lower case, dashed."""
    return str(uuid_module.UUID(bytes=uuid.to_bytes(force_128=True)[::-1]))


class BumbleBleakClient(BaseBleakClient):
    """bleak client backend: a connection of the radio's adapter to one strap."""

    radio: VirtualRadio  # bound by VirtualRadio.backends()

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.get("disconnected_callback"),
            timeout=kwargs.get("timeout", 10.0),
        )
        self._connection: Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[int, Any] = {}
        self._disconnect_requested = False

    @property
    def mtu_size(self) -> int:
        return ATT_DEFAULT_MTU

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            connection = await self.radio.call(self.radio.connect(self.address, self._timeout))
        except Exception as exc:  # bumble's own errors become bleak's, as a real backend does
            raise BleakDeviceNotFoundError(self.address, f"connect failed: {exc!r}") from exc
        self._connection = connection
        self.radio.post(lambda: connection.on(connection.EVENT_DISCONNECTION, self._from_radio_disconnected))
        try:
            self.services = await self.radio.call(self._discover(connection))
        except Exception as exc:
            await self.disconnect()
            raise BleakError(f"service discovery failed: {exc!r}") from exc

    async def _discover(self, connection: Connection) -> BleakGATTServiceCollection:
        peer = Peer(connection)
        await peer.discover_services()
        collection = BleakGATTServiceCollection()
        for service in peer.services:
            await peer.discover_characteristics(service=service)
            self._add_service(collection, service)
        return collection

    def _add_service(self, collection: BleakGATTServiceCollection, service: Any) -> None:
        bleak_service = BleakGATTService(service, service.handle, _bleak_uuid(service.uuid))
        collection.add_service(bleak_service)
        for characteristic in service.characteristics:
            self._proxies[characteristic.handle] = characteristic
            collection.add_characteristic(BleakGATTCharacteristic(
                characteristic, characteristic.handle,
                _bleak_uuid(characteristic.uuid),
                _property_names(characteristic.properties),
                lambda: ATT_DEFAULT_MTU - 3, bleak_service,
            ))

    def _from_radio_disconnected(self, _reason: int) -> None:
        self._loop.call_soon_threadsafe(self._on_disconnected)

    def _on_disconnected(self) -> None:
        was_connected = self._connection is not None
        self._connection = None
        if was_connected and not self._disconnect_requested and self._disconnected_callback:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        connection, self._disconnect_requested = self._connection, True
        self._connection = None
        if connection is not None:
            await self.radio.call(_disconnect_quietly(connection))

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the virtual straps need no pairing")

    async def unpair(self) -> None:
        raise NotImplementedError("the virtual straps need no pairing")

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        proxy = self._proxies[characteristic.handle]
        return bytearray(await self.radio.call(proxy.read_value()))

    async def read_gatt_descriptor(self, descriptor, **kwargs: Any) -> bytearray:
        raise NotImplementedError("descriptors are not used by the heart-rate path")

    async def write_gatt_char(self, characteristic, data, response: bool) -> None:
        proxy = self._proxies[characteristic.handle]
        await self.radio.call(proxy.write_value(bytes(data), with_response=response))

    async def write_gatt_descriptor(self, descriptor, data) -> None:
        raise NotImplementedError("descriptors are not used by the heart-rate path")

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any) -> None:
        proxy = self._proxies[characteristic.handle]
        loop = self._loop

        def on_value(value: bytes) -> None:  # radio loop: hand the bytes to the client's loop
            loop.call_soon_threadsafe(callback, bytearray(value))

        await self.radio.call(proxy.subscribe(on_value))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        proxy = self._proxies[characteristic.handle]
        await self.radio.call(proxy.unsubscribe())


async def _disconnect_quietly(connection: Connection) -> None:
    try:
        await connection.disconnect()
    except Exception:  # already gone: the link dropped at the same moment
        logger.debug("disconnect of an already closed link", exc_info=True)


def _property_names(properties: int) -> list[str]:
    names = {0x02: "read", 0x04: "write-without-response", 0x08: "write", 0x10: "notify", 0x20: "indicate"}
    return [name for bit, name in names.items() if properties & bit]


class SinkRecorder:
    """A source's sink for tests and the soak: keeps every event, lets a reader wait on them."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self._changed = threading.Condition()

    def __call__(self, event: object) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def of(self, kind: type) -> list[Any]:
        with self._changed:
            return [event for event in self.events if isinstance(event, kind)]

    def wait_for(self, predicate: Callable[[SinkRecorder], bool], timeout_s: float, what: str) -> None:
        """Wait until `predicate(self)` holds; fail with `what` when `timeout_s` passes first."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not predicate(self):
                left_s = deadline - time.monotonic()
                if left_s <= 0:
                    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
                self._changed.wait(left_s)
