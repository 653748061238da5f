"""Heart-rate recovery after a work interval: HRR60.

HRR60 = HR at the end of work - HR 60 s later. The strap and the coach's mark both lag, so "HR at
the end of work" is the highest HR within `peak_window_s` either side of the mark. "HR 60 s later"
is the HR at mark + 60 s, interpolated between the two samples around it; when those samples are
more than `max_sample_gap_s` apart (the strap dropped out) the answer is None, never a guess.
"""

from __future__ import annotations

import numpy as np

RECOVERY_DELAY_S = 60.0  # HRR60: one minute after the end of work
DEFAULT_PEAK_WINDOW_S = 10.0  # search for the end-of-work peak this far either side of the mark
DEFAULT_MAX_SAMPLE_GAP_S = 3.0  # samples further apart than this cannot be interpolated between


def hr_at(t_s: np.ndarray, hr_bpm: np.ndarray, when_s: float, max_sample_gap_s: float) -> float | None:
    """HR at a moment, linear between the samples around it; None in a gap or outside the data."""
    valid = np.isfinite(hr_bpm)
    t_s, hr_bpm = t_s[valid], hr_bpm[valid]
    after = int(np.searchsorted(t_s, when_s, side="left"))
    if after < len(t_s) and t_s[after] == when_s:
        return float(hr_bpm[after])
    if after == 0 or after == len(t_s) or t_s[after] - t_s[after - 1] > max_sample_gap_s:
        return None
    share = (when_s - t_s[after - 1]) / (t_s[after] - t_s[after - 1])
    return float(hr_bpm[after - 1] + share * (hr_bpm[after] - hr_bpm[after - 1]))


def hrr60_bpm(t_s, hr_bpm, work_end_s: float, peak_window_s: float = DEFAULT_PEAK_WINDOW_S,
              max_sample_gap_s: float = DEFAULT_MAX_SAMPLE_GAP_S) -> float | None:
    """Beats per minute the heart rate fell in the minute after `work_end_s`; None without data."""
    t_s = np.asarray(t_s, dtype=np.float64)
    hr_bpm = np.asarray(hr_bpm, dtype=np.float64)
    near_end = (np.abs(t_s - work_end_s) <= peak_window_s) & np.isfinite(hr_bpm)
    if not near_end.any():
        return None
    later = hr_at(t_s, hr_bpm, work_end_s + RECOVERY_DELAY_S, max_sample_gap_s)
    if later is None:
        return None
    return float(np.max(hr_bpm[near_end]) - later)
