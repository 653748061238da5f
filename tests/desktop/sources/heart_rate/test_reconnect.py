"""The reconnect table: a machine without Bluetooth is told at once, not after a minute of tries."""

from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason

from desktop.sources.heart_rate.reconnect import FailureKind, ReconnectPolicy, StrapNotFound, classify_failure


def test_no_bluetooth_stack_is_not_retried():
    policy = ReconnectPolicy()
    missing_bluez = FileNotFoundError(2, "No such file or directory")  # BlueZ's D-Bus socket is absent
    no_adapter = BleakBluetoothNotAvailableError("no adapter", BleakBluetoothNotAvailableReason.NO_BLUETOOTH)
    for exc in (missing_bluez, no_adapter):
        kind = classify_failure(exc)
        assert kind is FailureKind.NO_BLUETOOTH
        assert not policy.should_retry(1, kind)


def test_a_strap_out_of_range_is_retried_up_to_the_cap():
    policy = ReconnectPolicy(max_attempts=3)
    kind = classify_failure(StrapNotFound("gone"))
    assert [policy.should_retry(n, kind) for n in (1, 2, 3)] == [True, True, False]
