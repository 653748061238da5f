"""Scanning for straps over the bumble stack: real bleak scanner code, virtual straps on air."""

from __future__ import annotations

import threading

import pytest

from desktop.sources.heart_rate.scan import scan_for_straps
from tests.support.bumble_bleak import VirtualRadio

WAIT_S = 10.0  # a strap advertising every 20 ms is found in milliseconds; this bounds a slow machine


@pytest.fixture
def radio():
    with VirtualRadio() as world:
        yield world


def test_a_scan_finds_every_heart_rate_strap_once_by_address_and_name(radio):
    radio.add_strap("D0:00:00:00:00:0A", "Polar H10 A")
    radio.add_strap("d0:00:00:00:00:0b", "Garmin HRM B")
    _, scanner = radio.backends()
    reported = []
    both = threading.Event()

    def on_found(strap):
        reported.append(strap)
        if len(reported) == 2:
            both.set()

    found = scan_for_straps(WAIT_S, backend=scanner, on_found=on_found, cancel=both)

    assert sorted((s.address, s.name) for s in found) == [
        ("D0:00:00:00:00:0A", "Polar H10 A"), ("D0:00:00:00:00:0B", "Garmin HRM B")]
    assert sorted(s.address for s in reported) == sorted(s.address for s in found)  # each once
    assert all(isinstance(s.rssi_dbm, int) for s in found)


def test_a_scan_with_no_strap_in_range_ends_empty_after_its_duration(radio):
    _, scanner = radio.backends()
    assert scan_for_straps(0.3, backend=scanner) == []
    with pytest.raises(ValueError, match="positive"):
        scan_for_straps(0, backend=scanner)
