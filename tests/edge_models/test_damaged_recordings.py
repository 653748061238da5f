"""Damaged real files keep every sample read before the damage and say what was lost.

The files are the real sweat recordings, cut and corrupted here the way a dead battery or a crash
leaves them. The FIT files come from two Garmin devices (an Edge 1000 bike computer and a
Forerunner 935 watch); the third FIT maker is Trackside itself ("development", our own exports).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import fitdecode
import numpy as np
import pytest

from desktop.export import ExportAthlete, ExportSession, export_fit
from desktop.sources.heart_rate.base import HeartRateSample
from edge_models.recordings import RecordingError, read_recording, spoken_count, spoken_duration
from tests.support.assets import real_asset

FIT_FILES = {  # file -> (manufacturer, product) as its file_id message says
    "2020-06-01-16-52-40.fit": ("garmin", "edge1000"),
    "6449921903_ACTIVITY.fit": ("garmin", "fr935"),
}
TCX_FILES = ("activity_4801048867.tcx", "3173437224.tcx")  # pretty-printed, and all on one line
GARBAGE = b"\x00\x17 bytes a crashed device left behind \xff\xfe"


@dataclass(frozen=True)
class FitLayout:
    """Where each record message lies in a FIT file, and what it says (read by fitdecode)."""

    manufacturer: str
    product: str
    record_spans: list[tuple[int, int]]  # (first byte, one past the last byte) of each record message


def fit_layout(data_path) -> FitLayout:
    spans, file_id = [], {}
    with fitdecode.FitReader(data_path, keep_raw_chunks=True) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                spans.append((frame.chunk.offset, frame.chunk.offset + len(frame.chunk.bytes)))
            elif isinstance(frame, fitdecode.FitDataMessage) and frame.name == "file_id":
                file_id = {f.name: f.value for f in frame.fields}
    return FitLayout(file_id["manufacturer"], file_id.get("garmin_product") or file_id.get("product"), spans)


def written(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def cut_short_words(name: str, recording) -> str:
    n = int(np.sum(np.isfinite(recording.hr_bpm)))
    return (f"{name} cut short after {spoken_duration(recording.time_s[-1])}: {spoken_count(n)} samples kept, "
            "the rest of the file is unreadable")


def assert_prefix_of(kept, whole, count: int) -> None:
    """`kept` holds exactly the first `count` samples of `whole`, value for value."""
    assert len(kept.time_s) == count > 0
    np.testing.assert_array_equal(kept.time_s, whole.time_s[:count])
    np.testing.assert_array_equal(kept.hr_bpm, whole.hr_bpm[:count])
    assert kept.start_utc == whole.start_utc


def test_the_spoken_words_for_durations_and_counts():
    assert spoken_duration(3 * 3600 + 58 * 60 + 12) == "3 h 58 min"
    assert spoken_duration(12 * 60 + 5) == "12 min 5 s" and spoken_duration(45.4) == "45 s"
    assert spoken_count(14391) == "14 391" and spoken_count(987) == "987"


@pytest.mark.parametrize("name", sorted(FIT_FILES))
def test_the_fit_files_come_from_the_devices_named_here(name):
    layout = fit_layout(real_asset(name))
    assert (layout.manufacturer, layout.product) == FIT_FILES[name]


@pytest.mark.parametrize("name", sorted(FIT_FILES))
def test_a_fit_file_cut_in_its_last_record_keeps_every_earlier_sample(tmp_path, name):
    source = real_asset(name)
    whole, layout = read_recording(source), fit_layout(source)
    start, end = layout.record_spans[-1]
    assert len(layout.record_spans) == len(whole.time_s)  # one sample per record in these files
    kept = read_recording(written(tmp_path, name, source.read_bytes()[:(start + end) // 2]))
    assert_prefix_of(kept, whole, len(whole.time_s) - 1)
    assert kept.damage == cut_short_words(name, kept)


@pytest.mark.parametrize("name", sorted(FIT_FILES))
def test_a_fit_file_cut_in_the_middle_keeps_the_first_half(tmp_path, name):
    source = real_asset(name)
    whole, layout = read_recording(source), fit_layout(source)
    middle = len(layout.record_spans) // 2
    kept = read_recording(written(tmp_path, name, source.read_bytes()[:layout.record_spans[middle][0] + 3]))
    assert_prefix_of(kept, whole, middle)
    assert kept.damage == cut_short_words(name, kept)
    assert kept.duration_s < whole.duration_s * 0.75


@pytest.mark.parametrize("name", sorted(FIT_FILES))
def test_a_fit_file_with_a_bad_checksum_keeps_everything_and_says_so(tmp_path, name):
    source = real_asset(name)
    data = bytearray(source.read_bytes())
    data[-1] ^= 0x5A  # the file CRC
    kept = read_recording(written(tmp_path, name, bytes(data)))
    whole = read_recording(source)
    assert_prefix_of(kept, whole, len(whole.time_s))
    assert kept.damage.startswith(f"{name} has a bad checksum: all {spoken_count(len(whole.time_s))} samples")


@pytest.mark.parametrize("name", sorted(FIT_FILES))
def test_a_byte_flipped_inside_a_fit_file_is_never_passed_off_as_whole(tmp_path, name):
    data = bytearray(real_asset(name).read_bytes())
    data[len(data) // 2] ^= 0xFF  # a value inside a message: it still decodes, only the CRC can tell
    kept = read_recording(written(tmp_path, name, bytes(data)))
    assert kept.damage.startswith(f"{name} has a bad checksum") and "some values may be wrong" in kept.damage


@pytest.mark.parametrize("name", sorted(FIT_FILES))
def test_garbage_after_a_fit_file_is_ignored_and_said(tmp_path, name):
    source = real_asset(name)
    kept = read_recording(written(tmp_path, name, source.read_bytes() + GARBAGE))
    whole = read_recording(source)
    assert_prefix_of(kept, whole, len(whole.time_s))
    assert "unreadable data after its end" in kept.damage


@pytest.mark.parametrize("name", sorted(FIT_FILES))
def test_a_fit_file_with_a_damaged_header_is_a_clear_error(tmp_path, name):
    data = bytearray(real_asset(name).read_bytes())
    data[8:12] = b"JUNK"  # the ".FIT" signature
    with pytest.raises(RecordingError, match=f"{name}: not a readable FIT file"):
        read_recording(written(tmp_path, name, bytes(data)))
    with pytest.raises(RecordingError, match=f"{name}: not a readable FIT file"):
        read_recording(written(tmp_path, name, bytes(data[:10])))


def test_a_fit_file_cut_before_its_first_record_is_a_clear_error(tmp_path):
    source = real_asset("6449921903_ACTIVITY.fit")
    first_record_at = fit_layout(source).record_spans[0][0]
    with pytest.raises(RecordingError, match="no timestamped samples before the damage"):
        read_recording(written(tmp_path, "early.fit", source.read_bytes()[:first_record_at + 2]))


def test_a_cut_trackside_export_keeps_its_samples_too(tmp_path):
    """Our own FIT files (manufacturer 'development'): the third maker the reader is tried on."""
    start = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    samples = [HeartRateSample("a", float(t), 100 + t % 40) for t in range(600)]
    path = export_fit(ExportSession("s", start, [ExportAthlete("a", "A", samples, [], 0.0)]), tmp_path / "ours.fit", "a")
    layout = fit_layout(path)
    assert layout.manufacturer == "development"
    cut = path.read_bytes()[:layout.record_spans[400][0] + 1]
    kept = read_recording(written(tmp_path, "ours.fit", cut))
    assert list(kept.hr_bpm) == [100 + t % 40 for t in range(400)]
    assert kept.start_utc == start and kept.damage == cut_short_words("ours.fit", kept)
    assert kept.start_utc + timedelta(seconds=kept.duration_s) == start + timedelta(seconds=399)


def complete_trackpoints(text: str, whole) -> int:
    """How many samples of the whole file end at the last Trackpoint complete in `text`.

    Counted by time, not by element: where a lap ends and the next begins, TCX files repeat a
    trackpoint at the same second, and a recording keeps one sample per second.
    """
    complete = text[:text.rfind("</Trackpoint>")]
    last_time = re.findall(r"<Time>([^<]+)</Time>", complete)[-1]
    last_s = (datetime.fromisoformat(last_time.replace("Z", "+00:00")) - whole.start_utc).total_seconds()
    return int(np.sum(whole.time_s <= last_s))


@pytest.mark.parametrize("name", TCX_FILES)
def test_a_tcx_file_cut_mid_xml_keeps_every_complete_trackpoint(tmp_path, name):
    source = real_asset(name)
    text = source.read_text()
    whole = read_recording(source)
    for fraction in (0.5, 0.97):
        cut = text[:int(len(text) * fraction)]
        kept = read_recording(written(tmp_path, name, cut.encode()))
        assert_prefix_of(kept, whole, complete_trackpoints(cut, whole))
        assert kept.damage == cut_short_words(name, kept)


@pytest.mark.parametrize("name", TCX_FILES)
def test_a_tcx_file_with_a_malformed_part_keeps_what_came_before(tmp_path, name):
    source = real_asset(name)
    text = source.read_text()
    whole = read_recording(source)
    at = text.index("<Trackpoint>", len(text) // 3)
    broken = text[:at] + "<Trackpoint <<>" + text[at + len("<Trackpoint>"):]
    kept = read_recording(written(tmp_path, name, broken.encode()))
    assert_prefix_of(kept, whole, complete_trackpoints(text[:at], whole))
    assert kept.damage.startswith(f"{name} is damaged after ")
    garbage_after = read_recording(written(tmp_path, name, text.encode() + GARBAGE))
    assert_prefix_of(garbage_after, whole, len(whole.time_s))
    assert "unreadable data after its end" in garbage_after.damage


def test_a_tcx_file_with_a_bad_time_keeps_what_came_before(tmp_path):
    source = real_asset("activity_4801048867.tcx")
    text = source.read_text()
    whole = read_recording(source)
    at = text.index("<Time>", len(text) // 2)
    broken = text[:at] + "<Time>yesterday</Time>" + text[text.index("</Time>", at) + len("</Time>"):]
    kept = read_recording(written(tmp_path, "late.tcx", broken.encode()))
    assert_prefix_of(kept, whole, complete_trackpoints(text[:at], whole))
    assert "late.tcx is damaged after" in kept.damage


def test_a_tcx_file_with_a_damaged_start_or_entities_is_a_clear_error(tmp_path):
    text = real_asset("activity_4801048867.tcx").read_text()
    with pytest.raises(RecordingError, match="head.tcx: not a readable TCX file"):
        read_recording(written(tmp_path, "head.tcx", b"<<?xml" + text.encode()[6:]))
    bomb = ('<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            '<TrainingCenterDatabase>&b;</TrainingCenterDatabase>')
    with pytest.raises(RecordingError, match="bomb.tcx: refused"):
        read_recording(written(tmp_path, "bomb.tcx", bomb.encode()))


def test_whole_files_carry_no_damage_note():
    for name in (*FIT_FILES, *TCX_FILES):
        assert read_recording(real_asset(name)).damage is None
