"""Analytics checked against numbers worked out by hand on slices of real recordings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from desktop.analytics import (
    AthleteProfile,
    LiveAthleteState,
    ZoneError,
    ZoneModel,
    hrr60_bpm,
    hrv_summary,
    rmssd_ms,
    sdnn_ms,
    time_in_zones_s,
    trimp_banister,
    trimp_edwards,
    zone_of,
)
from desktop.sources.heart_rate.base import HeartRateSample
from edge_models.recordings import read_recording, read_rr_series
from tests.support.assets import real_asset

ATHLETE = AthleteProfile(hr_max_bpm=170.0, hr_rest_bpm=60.0)  # bounds 85/102/119/136/153 bpm by %HRmax


@pytest.fixture(scope="module")
def bike_slice():
    """Samples 44-58 of a real Wattbike file: 10 s at 152-153 bpm, a 32 s hole, 5 s at 145 bpm."""
    ride = read_recording(real_asset("2020-06-01-16-52-40.fit"))
    t_s, hr_bpm = ride.time_s[44:59], ride.hr_bpm[44:59]
    assert t_s.tolist() == [44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 85, 86, 87, 88, 89]
    assert hr_bpm.tolist() == [153, 153, 153, 152, 152, 152, 152, 152, 152, 152, 145, 145, 145, 145, 145]
    return t_s, hr_bpm


def test_zones_by_percent_hrmax_and_by_reserve():
    assert ZoneModel().bounds_bpm(ATHLETE).tolist() == [85.0, 102.0, 119.0, 136.0, 153.0]
    # Karvonen: 60 + f x (170 - 60) for f = 0.5 .. 0.9
    assert ZoneModel(basis="reserve").bounds_bpm(ATHLETE).tolist() == [115.0, 126.0, 137.0, 148.0, 159.0]
    bounds = ZoneModel().bounds_bpm(ATHLETE)
    assert [zone_of(hr, bounds) for hr in (70, 85, 152, 153, 200, float("nan"))] == [0, 1, 4, 5, 5, 0]
    team = ZoneModel((0.6, 0.75, 0.85))  # a team's own three zones
    assert team.zone_count == 3 and zone_of(140, team.bounds_bpm(ATHLETE)) == 2  # 127.5 <= 140 < 144.5


def test_bad_zone_models_are_refused():
    with pytest.raises(ZoneError):
        ZoneModel((0.7, 0.6))
    with pytest.raises(ZoneError, match="resting"):
        ZoneModel(basis="reserve").bounds_bpm(AthleteProfile(hr_max_bpm=190))


def test_time_in_zone_credits_nothing_across_the_hole(bike_slice):
    t_s, hr_bpm = bike_slice
    seconds = time_in_zones_s(t_s, hr_bpm, ZoneModel().bounds_bpm(ATHLETE))
    # 153 bpm held 44->47: 3 s in zone 5; 152 bpm held 47->53: 6 s in zone 4; 53->85 is a hole;
    # 145 bpm held 85->89: 4 s in zone 4. The last sample holds nothing.
    assert seconds.tolist() == [0, 0, 0, 0, 6 + 4, 3]
    reserve = time_in_zones_s(t_s, hr_bpm, ZoneModel(basis="reserve").bounds_bpm(ATHLETE))
    assert reserve.tolist() == [0, 0, 0, 4, 3 + 6, 0]  # 145 in Z3 (137-148), 152-153 in Z4 (148-159)


def test_edwards_trimp_by_hand(bike_slice):
    t_s, hr_bpm = bike_slice
    expected = (3 * 5 + 10 * 4) / 60  # minutes x zone number
    assert trimp_edwards(t_s, hr_bpm, ATHLETE.hr_max_bpm) == pytest.approx(expected)


def test_banister_trimp_by_hand_for_both_weightings(bike_slice):
    t_s, hr_bpm = bike_slice
    hrr_153, hrr_152, hrr_145 = (153 - 60) / 110, (152 - 60) / 110, (145 - 60) / 110
    male = (3 / 60 * hrr_153 * 0.64 * math.exp(1.92 * hrr_153)
            + 6 / 60 * hrr_152 * 0.64 * math.exp(1.92 * hrr_152)
            + 4 / 60 * hrr_145 * 0.64 * math.exp(1.92 * hrr_145))
    female = (3 / 60 * hrr_153 * 0.86 * math.exp(1.67 * hrr_153)
              + 6 / 60 * hrr_152 * 0.86 * math.exp(1.67 * hrr_152)
              + 4 / 60 * hrr_145 * 0.86 * math.exp(1.67 * hrr_145))
    assert trimp_banister(t_s, hr_bpm, ATHLETE) == pytest.approx(male)  # male is the default
    woman = AthleteProfile(170.0, 60.0, sex="female")
    assert trimp_banister(t_s, hr_bpm, woman) == pytest.approx(female)


def test_empty_and_single_samples_give_zero_load():
    assert time_in_zones_s([], [], ZoneModel().bounds_bpm(ATHLETE)).sum() == 0
    assert trimp_banister([10.0], [150.0], ATHLETE) == 0.0
    assert trimp_edwards([], [], 190.0) == 0.0
    with pytest.raises(ValueError, match="increasing"):
        trimp_edwards([2.0, 1.0], [150.0, 150.0], 190.0)


FIRST_12_RR_MS = [859, 867, 883, 805, 852, 953, 1078, 883, 867, 953, 1031, 930]


@pytest.fixture(scope="module")
def rr_slice_s():
    rr_s = read_rr_series(real_asset("SampleNNISeriesShort.npy"))[:12]
    assert (rr_s * 1000).round().tolist() == FIRST_12_RR_MS
    return rr_s


def test_rmssd_and_sdnn_by_hand(rr_slice_s):
    # successive differences (ms): 8, 16, -78, 47, 101, 125, -195, -16, 86, 78, -101
    squares = 64 + 256 + 6084 + 2209 + 10201 + 15625 + 38025 + 256 + 7396 + 6084 + 10201
    assert squares == 96401
    assert rmssd_ms(rr_slice_s) == pytest.approx(math.sqrt(96401 / 11))
    mean_ms = 10961 / 12
    variance = sum((rr - mean_ms) ** 2 for rr in FIRST_12_RR_MS) / 11
    assert sdnn_ms(rr_slice_s) == pytest.approx(math.sqrt(variance))


def test_an_ectopic_beat_and_a_dropout_are_filtered(rr_slice_s):
    rr_s = rr_slice_s.copy()
    rr_s[6] = 1.500  # 953 -> 1500 ms is +57 %: ectopic, dropped
    with_dropout = np.insert(rr_s, 3, 3.2)  # a 3.2 s "interval": out of range, dropped
    # kept differences: all but 953->1500 and 1500->883 and those touching the dropout (883->3200->805)
    squares = 64 + 256 + 2209 + 10201 + 256 + 7396 + 6084 + 10201
    assert rmssd_ms(with_dropout) == pytest.approx(math.sqrt(squares / 8))
    summary = hrv_summary(with_dropout)
    assert (summary.beats_kept, summary.beats_dropped) == (11, 2)


def test_a_real_change_of_rhythm_is_followed_after_five_drops():
    rr_s = [0.8] * 5 + [0.5] * 8  # 75 bpm, then 120 bpm: a 37 % step, beyond the 20 % rule
    summary = hrv_summary(rr_s)
    # the first five 0.5 s beats are dropped; the fifth becomes the new reference; three are kept
    assert (summary.beats_kept, summary.beats_dropped) == (5 + 3, 5)
    assert summary.rmssd_ms == 0.0  # 0.8-0.8 x4 and 0.5-0.5 x2: no difference across the step


def test_all_artifacts_or_too_few_beats_give_none():
    assert rmssd_ms([]) is None and sdnn_ms([]) is None
    assert rmssd_ms([0.1, 2.5, 0.2, 3.0]) is None
    assert sdnn_ms([0.8]) is None


def test_rmssd_on_the_whole_real_series_is_plausible():
    summary = hrv_summary(read_rr_series(real_asset("SampleNNISeriesLong.npy")))
    assert 20 < summary.rmssd_ms < 120 and summary.beats_dropped < 0.05 * summary.beats_kept


@pytest.fixture(scope="module")
def run():
    return read_recording(real_asset("/4801048867.fit"))


def test_hrr60_by_hand_after_a_real_lap(run):
    window = (run.time_s >= 2840) & (run.time_s <= 2860)
    assert run.hr_bpm[window].tolist() == [134, 132, 134, 135, 133, 132, 135, 134, 137, 136, 135,
                                           135, 135, 136, 136, 135, 134, 138, 136, 128, 125]
    assert run.hr_bpm[np.searchsorted(run.time_s, [2910, 2911])].tolist() == [121, 124]
    assert hrr60_bpm(run.time_s, run.hr_bpm, work_end_s=2850) == 138 - 121
    # half a second later: 60 s on lands between 121 and 124 bpm -> 122.5; the peak is still 138
    assert hrr60_bpm(run.time_s, run.hr_bpm, work_end_s=2850.5) == pytest.approx(138 - 122.5)


def test_hrr60_is_none_without_data(bike_slice):
    t_s, hr_bpm = bike_slice
    assert hrr60_bpm(t_s, hr_bpm, work_end_s=0.0) is None  # no HR near the end of work
    assert hrr60_bpm(t_s, hr_bpm, work_end_s=48.0) is None  # 108 s is past the data
    ride = read_recording(real_asset("2020-06-01-16-52-40.fit"))
    assert hrr60_bpm(ride.time_s, ride.hr_bpm, work_end_s=10.0) is None  # 70 s falls in the 53-85 s hole
    assert hrr60_bpm(ride.time_s, ride.hr_bpm, work_end_s=25.0) == 156 - 145


def test_live_state_agrees_with_the_session_functions_on_a_real_run(run):
    state = LiveAthleteState(175.0, 55.0, zone_model=ZoneModel(basis="reserve"))
    for t_s, hr_bpm in zip(run.time_s, run.hr_bpm):
        state.add(HeartRateSample("run", float(t_s), int(hr_bpm)))
    bounds = ZoneModel(basis="reserve").bounds_bpm(AthleteProfile(175.0, 55.0))
    np.testing.assert_allclose(state.time_in_zones_s, time_in_zones_s(run.time_s, run.hr_bpm, bounds))
    assert state.trimp_banister == pytest.approx(trimp_banister(run.time_s, run.hr_bpm, AthleteProfile(175.0, 55.0)))
    assert state.trimp_edwards == pytest.approx(trimp_edwards(run.time_s, run.hr_bpm, 175.0))
    assert state.current_zone == zone_of(run.hr_bpm[-1], bounds)
    assert state.mean_hr_bpm == pytest.approx(float(np.mean(run.hr_bpm))) and state.max_hr_bpm == 160


def test_live_state_rmssd_over_last_beats_and_gaps(rr_slice_s, bike_slice):
    state = LiveAthleteState.for_profile(ATHLETE, rmssd_beats=4)
    assert state.rmssd_ms is None and state.current_zone is None and state.trimp_edwards == 0
    state.add_sample(0.0, 150, rr_slice_s[:6].tolist())
    # last four beats 883, 805, 852, 953: differences -78, 47, 101
    assert state.rmssd_ms == pytest.approx(math.sqrt((6084 + 2209 + 10201) / 3))
    state.add_gap()
    state.add_sample(1.0, 151, (1.078,))  # last four: 805, 852, 953 | gap | 1078: no difference across it
    assert state.rmssd_ms == pytest.approx(math.sqrt((2209 + 10201) / 2))
    assert state.time_in_zones_s.sum() == 0  # the second before the gap is not credited
    state.add_sample(0.5, 151)  # out of order: dropped, counted
    assert state.dropped_samples == 1
    assert state.trimp_banister == 0.0
    assert LiveAthleteState(190.0).trimp_banister is None  # no resting HR: no Banister


def test_live_state_without_hrmax_still_tracks_heart_rate():
    state = LiveAthleteState()
    state.add(HeartRateSample("s", 0.0, 120, (0.5,)))
    state.add(HeartRateSample("s", 1.0, 126, (0.48, 0.47)))
    assert (state.mean_hr_bpm, state.max_hr_bpm, state.hr_bpm) == (123.0, 126, 126.0)
    assert state.current_zone is None and state.time_in_zones_s is None and state.trimp_edwards is None
    assert state.rmssd_ms == pytest.approx(math.sqrt((20**2 + 10**2) / 2))  # 500, 480, 470 ms
