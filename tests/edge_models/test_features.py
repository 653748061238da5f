"""Feature extraction: the windows the heart-rate and movement models see, live and in training."""

from __future__ import annotations

import numpy as np
import pytest

from edge_models.features.hr import (COLD_START_MIN_S, HORIZONS_S, HR_CHANNEL, HR_SCALE_BPM, N_CHANNELS,
                                     RELATIVE_HR_BPM,
                                     MAX_HOLD_S, MAX_RATE_BPM_PER_S, MAX_STEP_BPM,
                                     NEW_LEVEL_SAMPLES, RECOVERY_S, STATE_CHANNEL, WINDOW_S,
                                     FeatureError, artefact_mask, decode_forecast,
                                     recording_windows, recovery_mask, sample_and_hold,
                                     without_artefacts)
from edge_models.features.effort import EffortScale, recording_effort
from edge_models.features.hr_insights import (ForecastBand, HrForecast, ResponseWatch,
                                              predicted_rep_peak_bpm, time_to_recover)
from edge_models.features.hr_live import LiveHrWindow
from edge_models.features import movement as mv
from edge_models.recordings import read_recording
from tests.support.assets import real_asset

REAL_RUN = "3173437224.tcx"  # the real run whose strap jumps 150 -> 58 bpm (RECOVERY_NOTES.md)
REAL_RIDES = ("4078723797.fit", "4801048867.fit")  # two real rides with no artefacts


def _ramp_recording(duration_s: int = 400):
    time_s = np.arange(duration_s, dtype=float)
    hr_bpm = 100 + 0.1 * time_s  # rises 1 bpm every 10 s
    return time_s, hr_bpm


# ------------------------------------------------------------------------------ heart rate

def test_sample_and_hold_holds_briefly_then_leaves_a_hole():
    grid = np.arange(0.0, 10.0)
    held = sample_and_hold(np.array([0.0, 1.0]), np.array([120.0, 121.0]), grid)
    assert held[1 + int(MAX_HOLD_S)] == 121.0
    assert np.isnan(held[2 + int(MAX_HOLD_S)])


def test_sample_and_hold_refuses_time_going_backwards():
    with pytest.raises(FeatureError, match="backwards"):
        sample_and_hold(np.array([2.0, 1.0]), np.array([120.0, 121.0]), np.arange(3.0))


def test_recording_windows_targets_are_the_real_future_changes():
    time_s, hr_bpm = _ramp_recording()
    windows = recording_windows(time_s, hr_bpm, None)
    assert len(windows) == 400 - WINDOW_S - max(HORIZONS_S) + 1
    expected_bpm = [0.1 * h for h in HORIZONS_S]
    np.testing.assert_allclose(windows.targets[0] * HR_SCALE_BPM, expected_bpm, atol=1e-4)
    np.testing.assert_allclose(decode_forecast(windows.targets[0], windows.hr_now_bpm[0]),
                               windows.hr_now_bpm[0] + np.array(expected_bpm), atol=1e-3)


def test_a_gap_longer_than_the_hold_invalidates_only_windows_that_span_it():
    time_s, hr_bpm = _ramp_recording(600)
    keep = (time_s < 300) | (time_s > 310)  # a 10 s dropout
    windows = recording_windows(time_s[keep], hr_bpm[keep], None)
    full = recording_windows(time_s, hr_bpm, None)
    assert 0 < len(windows) < len(full)
    hole = set(range(300 + int(MAX_HOLD_S) + 1, 311))  # held for MAX_HOLD_S, then a hole
    for end in windows.end_s.astype(int):  # no window's history or horizon point is in the hole
        used = set(range(end - WINDOW_S + 1, end + 1)) | {end + h for h in HORIZONS_S}
        assert not used & hole
    assert len(full) - len(windows) >= WINDOW_S  # every window whose history spans it is gone


def test_effort_prefers_power_and_maps_it_into_zero_one():
    power = np.array([400.0, 100.0, 200.0, 0.0, np.nan])
    effort, source = recording_effort(power, np.ones(5), None)
    assert source == "power"
    assert effort[0] == 1.0 and effort[3] == 0.0
    assert 0 < effort[1] < effort[2] < 1.0  # against the 95th percentile of the power so far
    assert np.isnan(effort[-1])  # a sample without power says nothing about effort
    _, fallback = recording_effort(None, None, np.array([80.0, 85.0]))
    assert fallback == "cadence"
    assert recording_effort(None, np.zeros(3), None) == (None, "none")


def test_effort_stops_are_zero_and_do_not_shrink_the_scale():
    scale = EffortScale()
    assert scale.effort(200.0, None, None) == 1.0
    for _ in range(100):
        assert scale.effort(0.0, None, None) == 0.0  # a long stop
    assert scale.effort(200.0, None, None) == 1.0  # the stop left the scale as it was
    assert scale.effort(100.0, None, None) == pytest.approx(0.5, abs=0.03)


def test_effort_switches_to_power_once_a_power_meter_joins_and_never_mixes_channels():
    scale = EffortScale()
    assert scale.effort(None, 4.0, 80.0) == 1.0 and scale.channel == "speed"
    assert scale.effort(None, 2.0, 80.0) == pytest.approx(0.5, abs=0.03)
    assert scale.effort(250.0, 2.0, 80.0) == 1.0 and scale.channel == "power"
    assert scale.effort(None, 4.0, 80.0) is None  # no power on this sample: no effort from it


def test_recovery_follows_each_work_to_rest_drop():
    effort = np.r_[np.zeros(50), np.ones(100), np.zeros(200)]
    mask = recovery_mask(effort)
    first = int(np.argmax(mask))
    assert 150 <= first < 150 + 10  # the smoothed effort falls within 10 s of the drop
    assert mask.sum() == RECOVERY_S


def test_live_window_matches_the_training_window_for_the_same_samples():
    time_s, hr_bpm = _ramp_recording(WINDOW_S + max(HORIZONS_S))
    effort = (time_s >= 60).astype(float)
    training = recording_windows(time_s, hr_bpm, effort)
    live = LiveHrWindow()
    live.set_effort(0.0, 0.0)
    live.set_effort(60.0, 1.0)
    for t, hr in zip(time_s[:WINDOW_S], hr_bpm[:WINDOW_S]):
        live.add_hr(t, hr)
    np.testing.assert_array_equal(live.model_input()[0], training.inputs[0])


def test_live_window_matches_training_when_the_coach_marks_intervals_before_and_inside_it():
    time_s, hr_bpm = _ramp_recording(500)
    work = ((time_s >= 100) & (time_s < 200)) | ((time_s >= 280) & (time_s < 340))
    training = recording_windows(time_s, hr_bpm, work.astype(float))
    live = LiveHrWindow()
    for t, hr in zip(time_s[:301], hr_bpm[:301]):
        if t in (0, 100, 200, 280, 340):
            live.set_effort(t, float(work[int(t)]))  # the coach's marks: work 1, rest 0
        live.add_hr(t, hr)
    at_300 = int(np.flatnonzero(training.end_s == 300)[0])
    np.testing.assert_array_equal(live.model_input()[0], training.inputs[at_300])
    state = training.inputs[at_300][:, STATE_CHANNEL]
    assert state[0] == 1.0 and state.min() == 0.0  # opens in a bout begun before it, then rest


def test_the_window_shows_heart_rate_relative_to_now_not_the_athletes_level():
    time_s, hr_bpm = _ramp_recording()
    effort = (time_s % 100 < 50).astype(float)
    low = recording_windows(time_s, hr_bpm, effort)
    high = recording_windows(time_s, hr_bpm + 30.0, effort)  # the same response 30 bpm higher
    np.testing.assert_allclose(low.inputs, high.inputs, atol=1e-6)
    assert np.all(low.inputs[:, -1, HR_CHANNEL] == 0.0)


def _rising_hr_bpm(t_s: float) -> float:
    return 100.0 + 0.5 * t_s  # every second a different heart rate: padding shows


def test_live_window_gives_a_forecast_input_after_the_cold_start_minimum_and_not_before():
    live = LiveHrWindow()
    live.set_effort(0.0, 1.0)  # the coach marks work from the first second
    for t in range(COLD_START_MIN_S - 1):
        live.add_hr(float(t), _rising_hr_bpm(t))
    assert live.model_input() is None
    assert live.history_s == COLD_START_MIN_S - 1
    live.add_hr(float(COLD_START_MIN_S - 1), _rising_hr_bpm(COLD_START_MIN_S - 1))
    window = live.model_input()[0]
    assert live.history_s == COLD_START_MIN_S < WINDOW_S  # a forecast, still warming up
    padded = window[: WINDOW_S - COLD_START_MIN_S]
    earliest = (_rising_hr_bpm(0) - _rising_hr_bpm(COLD_START_MIN_S - 1)) / RELATIVE_HR_BPM
    np.testing.assert_allclose(padded[:, HR_CHANNEL], earliest, rtol=1e-6)
    assert np.all(padded[:, STATE_CHANNEL] == window[WINDOW_S - COLD_START_MIN_S, STATE_CHANNEL])
    np.testing.assert_allclose(window[-COLD_START_MIN_S:, HR_CHANNEL] * RELATIVE_HR_BPM,
                               0.5 * np.arange(-COLD_START_MIN_S + 1, 1), atol=1e-4)


def test_live_history_grows_to_the_window_and_stops_there():
    live = LiveHrWindow()
    for t in range(WINDOW_S + 30):
        live.add_hr(float(t), 120.0)
    assert live.history_s == WINDOW_S
    assert live.model_input().shape == (1, WINDOW_S, N_CHANNELS)


def test_a_hole_restarts_the_history_after_it():
    live = LiveHrWindow()
    times = [t for t in range(400) if not 200 <= t < 210]  # a 10 s strap drop
    after = [t for t in times if t >= 210]
    for t in [t for t in times if t < 200]:
        live.add_hr(float(t), _rising_hr_bpm(t))
    assert live.model_input() is not None
    for t in after[: COLD_START_MIN_S - 1]:
        live.add_hr(float(t), _rising_hr_bpm(t))
        assert live.model_input() is None  # the hole is closer than the cold-start minimum
    live.add_hr(float(after[COLD_START_MIN_S - 1]), _rising_hr_bpm(after[COLD_START_MIN_S - 1]))
    assert live.history_s == COLD_START_MIN_S
    window = live.model_input()[0]
    first_after_hole = (_rising_hr_bpm(210) - live.hr_now_bpm) / RELATIVE_HR_BPM
    np.testing.assert_allclose(window[: WINDOW_S - COLD_START_MIN_S, HR_CHANNEL], first_after_hole,
                               rtol=1e-6)  # nothing from before the hole


@pytest.mark.parametrize(("history_s", "end_s"), [(COLD_START_MIN_S, COLD_START_MIN_S - 1),
                                                  (45, 44), (45, 150), (90, 200), (WINDOW_S, 200)])
def test_cold_start_windows_are_the_same_in_training_and_live(history_s, end_s):
    time_s, hr_bpm = _ramp_recording(500)
    hr_bpm = hr_bpm + 5.0 * np.sin(time_s / 7.0)
    work = ((time_s >= 30) & (time_s < 80)) | ((time_s >= 130) & (time_s < 170))
    training = recording_windows(time_s, hr_bpm, work.astype(float), history_s=history_s)
    live = LiveHrWindow()
    for t in (0, 30, 80, 130, 170):  # the coach marks intervals from the session's start
        live.set_effort(float(t), float(work[t]))
    for t in range(end_s - history_s + 1, end_s + 1):  # the strap joins history_s before the end
        live.add_hr(time_s[t], hr_bpm[t])
    at_end = int(np.flatnonzero(training.end_s == end_s)[0])
    assert live.history_s == history_s == training.history_s[at_end]
    np.testing.assert_array_equal(live.model_input()[0], training.inputs[at_end])


def test_training_cold_start_windows_need_the_minimum_history():
    time_s, hr_bpm = _ramp_recording()
    with pytest.raises(FeatureError, match="history"):
        recording_windows(time_s, hr_bpm, None, history_s=COLD_START_MIN_S - 1)
    cold = recording_windows(time_s, hr_bpm, None, history_s=COLD_START_MIN_S)
    assert cold.end_s[0] == COLD_START_MIN_S - 1 and np.all(cold.cold_start)
    assert not np.any(recording_windows(time_s, hr_bpm, None).cold_start)


def test_live_window_refuses_bad_samples_and_keeps_what_it_had():
    live = LiveHrWindow()
    for t in range(WINDOW_S):
        live.add_hr(float(t), 140.0)
    before = live.model_input()
    with pytest.raises(FeatureError):
        live.add_hr(5.0, 140.0)  # out of order
    with pytest.raises(FeatureError):
        live.add_hr(200.0, 0.0)  # a strap's "no contact" zero
    with pytest.raises(FeatureError):
        live.set_effort(1.0, 2.0)
    np.testing.assert_array_equal(live.model_input(), before)


# ----------------------------------------------------------------------- hr artefacts

def _steady_with(t_s: int, hr_bpm: float, duration_s: int = 400):
    time_s = np.arange(duration_s, dtype=float)
    hr = np.full(duration_s, 150.0)
    hr[t_s] = hr_bpm
    return time_s, hr


def test_a_one_second_strap_jump_is_a_hole_not_heart_rate():
    time_s, hr = _steady_with(300, 58.0)  # 150 -> 58 -> 150 bpm: contact lost for one beat
    assert np.flatnonzero(artefact_mask(time_s, hr)).tolist() == [300]
    windows = recording_windows(time_s, hr, None)
    assert np.all(windows.inputs[..., HR_CHANNEL] == 0.0)  # 150 held over it: a flat window
    assert np.all(windows.targets == 0.0)  # no forecast is taught a 92 bpm plunge
    assert np.all(windows.hr_now_bpm == 150.0)


def test_out_of_range_values_are_holes():
    time_s, hr = _steady_with(300, 251.0)
    assert np.isnan(without_artefacts(time_s, hr)[300])
    assert np.count_nonzero(np.isnan(without_artefacts(time_s, hr))) == 1


def test_a_sprint_onset_at_the_hearts_fastest_is_kept():
    time_s = np.arange(60, dtype=float)
    rise = MAX_RATE_BPM_PER_S * np.clip(time_s - 20, 0, 12)  # +60 bpm in 12 s
    assert not artefact_mask(time_s, 100.0 + rise).any()
    stored = 100.0 + rise[(time_s // 3 * 3).astype(int)]  # a watch storing every 3 s: 15 bpm steps
    assert not artefact_mask(time_s, stored).any()


def test_a_change_after_a_dropout_is_accepted_when_the_heart_could_have_made_it():
    time_s = np.r_[np.arange(100.0), np.arange(110.0, 200.0)]  # 99 s, then 110 s: 11 s apart
    hr = np.r_[np.full(100, 150.0), np.full(90, 150.0 - MAX_STEP_BPM - 10 * MAX_RATE_BPM_PER_S)]
    assert not artefact_mask(time_s, hr).any()
    hr[100:] -= 1.0  # one bpm more than the heart can drop in those 10 s
    assert artefact_mask(time_s, hr)[100]


def test_a_new_level_is_accepted_after_a_few_artefacts_in_a_row_and_restarts_the_window():
    time_s = np.arange(400, dtype=float)
    hr = np.r_[np.full(200, 150.0), np.full(200, 100.0)]  # the strap settles 50 bpm lower
    rejected = np.flatnonzero(artefact_mask(time_s, hr))
    assert rejected.tolist() == list(range(200, 200 + NEW_LEVEL_SAMPLES))
    live, settled_s = LiveHrWindow(), 200 + NEW_LEVEL_SAMPLES + 30
    for t, value in zip(time_s[:settled_s], hr[:settled_s]):
        live.add_hr(t, value)
    assert live.hr_now_bpm == 100.0
    assert NEW_LEVEL_SAMPLES > MAX_HOLD_S  # longer than the hold: a hole, the history restarts
    assert live.history_s == 30


def test_live_and_training_reject_the_same_samples_of_a_real_run():
    run = read_recording(real_asset(REAL_RUN))
    batch = artefact_mask(run.time_s, run.hr_bpm)
    live, incremental = LiveHrWindow(), np.zeros_like(batch)
    for i in np.flatnonzero(np.isfinite(run.hr_bpm)):
        incremental[i] = not live.add_hr(run.time_s[i], run.hr_bpm[i])
    np.testing.assert_array_equal(incremental, batch)
    assert batch.sum() == live.artefact_count > 0
    steps = np.abs(np.diff(without_artefacts(run.time_s, run.hr_bpm)))
    assert np.nanmax(steps) < np.nanmax(np.abs(np.diff(run.hr_bpm)))  # the 150 -> 58 is gone


@pytest.mark.parametrize("name", REAL_RIDES)
def test_real_rides_lose_no_sample_to_the_artefact_rule(name):
    ride = read_recording(real_asset(name))
    assert not artefact_mask(ride.time_s, ride.hr_bpm).any()


def test_live_windows_match_training_windows_through_the_artefacts_of_a_real_run():
    run = read_recording(real_asset(REAL_RUN))
    until = np.flatnonzero(artefact_mask(run.time_s, run.hr_bpm)).max() + WINDOW_S  # past the last
    keep = np.isfinite(run.hr_bpm) & (run.time_s <= run.time_s[until])
    time_s, hr = run.time_s[keep], run.hr_bpm[keep]
    by_history = {h: recording_windows(time_s, hr, None, history_s=h)
                  for h in (COLD_START_MIN_S, WINDOW_S)}  # right after a hole, and full windows
    by_end = {h: {float(e): i for i, e in enumerate(w.end_s + time_s[0])}
              for h, w in by_history.items()}
    live, compared = LiveHrWindow(), {h: 0 for h in by_history}
    for t, value in zip(time_s, hr):
        live.add_hr(t, value)
        h = int(live.history_s)
        if h in by_end and float(t) in by_end[h]:
            np.testing.assert_array_equal(live.model_input()[0],
                                          by_history[h].inputs[by_end[h][float(t)]])
            compared[h] += 1
    assert min(compared.values()) > 0


REAL_POWER_RIDE = "4078723797.fit"  # a real ride with power, coasting zeros and intervals
LIVE_VS_TRAINING_S = 1800  # its first half hour: thousands of windows, a few seconds to check


def _at(column: np.ndarray | None, i: int) -> float | None:
    return None if column is None or not np.isfinite(column[i]) else float(column[i])


def test_a_real_ride_gives_the_model_the_same_inputs_live_and_in_training():
    ride = read_recording(real_asset(REAL_POWER_RIDE))
    keep = np.flatnonzero(np.isfinite(ride.hr_bpm) & (ride.time_s < LIVE_VS_TRAINING_S))
    channels = [None if c is None else c[keep] for c in (ride.power_w, ride.speed_mps,
                                                         ride.cadence_rpm)]
    time_s, hr = ride.time_s[keep], ride.hr_bpm[keep]  # the samples the replay source sends
    effort, channel = recording_effort(*channels)  # training: the whole recording at once
    training = recording_windows(time_s, hr, effort)
    at_end = {float(e): i for i, e in enumerate(training.end_s + np.ceil(time_s[0]))}
    live, compared = LiveHrWindow(), 0
    for i, t in enumerate(time_s):  # live: one sample at a time, as the worker receives them
        live.add_sample(t, hr[i], *(_at(c, i) for c in channels))
        if live.history_s == WINDOW_S and float(t) in at_end:
            np.testing.assert_array_equal(live.model_input()[0], training.inputs[at_end[float(t)]])
            compared += 1
    assert channel == "power" and np.any(channels[0] == 0)  # coasting zeros are in the test
    assert compared > 0.9 * len(training)
    state = training.inputs[:, -1, STATE_CHANNEL]
    assert 0.05 < state.mean() < 0.95  # work and rest both reach the model


# ---------------------------------------------------------------------------- hr insights

def _forecast(now: float, ahead: tuple[float, float, float]) -> HrForecast:
    return HrForecast(t_s=1000.0, hr_now_bpm=now, hr_ahead_bpm=ahead)


def test_rep_peak_is_the_highest_forecast_before_the_rep_ends():
    forecast = _forecast(150.0, (160.0, 170.0, 165.0))
    assert predicted_rep_peak_bpm(forecast) == 170.0
    assert predicted_rep_peak_bpm(forecast, rep_remaining_s=10.0) == 160.0
    assert predicted_rep_peak_bpm(forecast, rep_remaining_s=20.0) == pytest.approx(165.0)


def test_time_to_recover_reads_the_falling_forecast():
    forecast = _forecast(170.0, (160.0, 140.0, 120.0))
    assert time_to_recover(forecast, 150.0).seconds == pytest.approx(20.0)
    assert time_to_recover(forecast, 175.0).seconds == 0.0
    slow = time_to_recover(forecast, 100.0)
    assert slow.seconds is None and slow.beyond_forecast


def _band_5_bpm() -> ForecastBand:
    return ForecastBand.from_metrics({**{f"band_low_{h}s_bpm": -5.0 for h in HORIZONS_S},
                                      **{f"band_high_{h}s_bpm": 5.0 for h in HORIZONS_S}})


def _steady_forecasts(watch: ResponseWatch, **kwargs) -> None:
    for k in range(12):  # one forecast every 5 s: 150 bpm now and ahead
        watch.add_forecast(HrForecast(1000.0 + 5 * k, 150.0, (150.0, 150.0, 150.0), **kwargs))


def test_unusual_response_when_heart_rate_truly_departs_from_a_confident_forecast():
    watch = ResponseWatch(_band_5_bpm())
    _steady_forecasts(watch, work_state=1.0)
    assert watch.observe(1010.0, 154.0, 1.0) == []  # 4 bpm off: usual
    assert watch.observe(1015.0, 172.0, 1.0) == []  # far off, but not yet for long
    assert watch.observe(1020.0, 172.0, 1.0) == []
    unusual = watch.observe(1030.0, 173.0, 1.0)  # still far off 15 s on: the athlete departs
    assert [u.forecast_bpm for u in unusual] == [150.0] and unusual[0].horizon_s in HORIZONS_S
    assert watch.observe(1035.0, 172.0, 1.0) == []  # one alarm per departure, not one a sample


def test_no_alarm_while_warming_up_or_at_a_work_start_the_forecast_did_not_know():
    warming = ResponseWatch(_band_5_bpm())
    _steady_forecasts(warming, confident=False)  # the session's first forecasts
    assert [warming.observe(1000.0 + t, 175.0) for t in range(0, 70, 5)] == [[]] * 14
    work_start = ResponseWatch(_band_5_bpm())
    _steady_forecasts(work_start, work_state=0.0)  # forecast at rest, then the athlete starts
    assert [work_start.observe(1000.0 + t, 175.0, 1.0) for t in range(0, 70, 5)] == [[]] * 14
    planned = ResponseWatch(_band_5_bpm())
    _steady_forecasts(planned, work_state=0.0, plan_given=True)  # it knew the plan: it counts
    assert any(planned.observe(1000.0 + t, 175.0, 1.0) for t in range(0, 70, 5))


def test_a_band_missing_from_the_manifest_is_a_clear_error():
    with pytest.raises(ValueError, match="band"):
        ForecastBand.from_metrics({"mae30_bpm": 5.0})


# ------------------------------------------------------------------------------- movement

def _standing_pose(rng: np.random.Generator, frames: int, shift_px: float = 0.0) -> np.ndarray:
    base = rng.uniform(200, 400, size=(mv.NUM_LANDMARKS, 5))
    base[[mv.LEFT_HIP, mv.RIGHT_HIP], 1] = 400.0
    base[[mv.LEFT_SHOULDER, mv.RIGHT_SHOULDER], 1] = 250.0  # torso 150 px
    base[[mv.LEFT_HIP, mv.LEFT_SHOULDER], 0] = 280.0  # upright: shoulders above hips
    base[[mv.RIGHT_HIP, mv.RIGHT_SHOULDER], 0] = 320.0
    base[:, 3] = 0.9
    poses = np.repeat(base[None], frames, axis=0)
    poses[:, :, 0] += shift_px
    return poses


def test_movement_window_ignores_where_the_athlete_stands_and_how_big_they_look():
    rng = np.random.default_rng(0)
    poses = _standing_pose(rng, 40)
    t = np.arange(40) / 30.0
    near = mv.movement_input(t, poses, t[-1])
    moved = poses.copy()
    moved[:, :, :2] = poses[:, :, :2] * 2.0 + 300.0  # twice as close, elsewhere in the frame
    far = mv.movement_input(t, moved, t[-1])
    assert near.shape == (mv.WINDOW_FRAMES, 99)
    np.testing.assert_allclose(near, far, atol=1e-5)


def test_movement_window_keeps_a_jumps_rise():
    rng = np.random.default_rng(1)
    poses = _standing_pose(rng, 30)
    poses[:, :, 1] -= np.linspace(0, 75, 30)[:, None]  # rises half a torso
    window = mv.unflatten(mv.movement_input(np.arange(30) / 30.0, poses, 29 / 30.0))
    hip_y = window[:, mv.LEFT_HIP, mv.Y]
    assert hip_y[-1] - hip_y[0] == pytest.approx(-0.5, abs=1e-4)


def test_movement_window_needs_a_pose_in_most_frames():
    rng = np.random.default_rng(2)
    poses = _standing_pose(rng, 30)
    poses[5:15] = np.nan
    assert mv.movement_input(np.arange(30) / 30.0, poses, 29 / 30.0) is None


def test_pose_streams_at_sixty_frames_a_second_are_resampled_to_thirty():
    rng = np.random.default_rng(3)
    poses = _standing_pose(rng, 60)
    poses[:, :, 1] -= np.arange(60)[:, None]  # 1 px a frame at 60 fps
    window = mv.unflatten(mv.movement_input(np.arange(60) / 60.0, poses, 59 / 60.0))
    step = np.diff(window[:, mv.LEFT_HIP, mv.Y]) * 150.0
    np.testing.assert_allclose(step, -2.0, atol=1e-3)


def test_mirroring_twice_is_the_identity_and_once_swaps_sides():
    window = mv.unflatten(np.random.default_rng(4).normal(size=(30, 99)).astype(np.float32))
    once = mv.mirror(window)
    np.testing.assert_allclose(once[:, mv.LEFT_HIP, mv.X], -window[:, mv.RIGHT_HIP, mv.X])
    np.testing.assert_allclose(mv.mirror(once), window)


def test_time_warp_speeds_a_movement_up():
    window = np.zeros((30, 33, 3), dtype=np.float32)
    window[:, :, mv.Y] = np.arange(30)[:, None]
    faster = mv.time_warp(window, 2.0)
    assert faster[-1, 0, mv.Y] == 29 and faster[-2, 0, mv.Y] == 27
    np.testing.assert_allclose(mv.time_warp(window, 1.0), window)


def test_scale_and_jitter_change_positions_not_visibility():
    rng = np.random.default_rng(5)
    window = mv.unflatten(rng.normal(size=(30, 99)).astype(np.float32))
    window[:, :, mv.VISIBILITY] = 1.0
    for changed in (mv.scale(window, 1.1), mv.jitter(window, rng, 0.02)):
        assert not np.allclose(changed[:, :, :2], window[:, :, :2])
        np.testing.assert_array_equal(changed[:, :, mv.VISIBILITY], window[:, :, mv.VISIBILITY])
