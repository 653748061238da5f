"""Heart-rate variability from RR intervals: RMSSD and SDNN, after artifact filtering.

Units: RR intervals go IN in seconds (`rr_s`, as the strap's Heart Rate Measurement gives them and
as `HeartRateSample.rr_intervals_s` carries them); RMSSD and SDNN come OUT in milliseconds, the
unit coaches and the literature quote.

Artifact rule (applied in order, beat by beat):
1. an RR outside 0.27-2.0 s (above 222 or below 30 bpm) is not a heartbeat interval: dropped;
2. an RR that differs from the last accepted RR by more than 20 % of that RR is an ectopic or
   missed beat: dropped. The first beat is compared with the median of the first five in-range
   RRs. After five drops in a row the rhythm itself has changed: the current RR becomes the new
   reference.
RMSSD uses only differences between two neighbouring beats that were both accepted, so a dropped
beat never makes a difference across two intervals. SDNN is the sample standard deviation
(n - 1) of the accepted RRs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RR_MIN_S = 0.27  # shorter than this is above 222 bpm: not a heartbeat interval
RR_MAX_S = 2.0  # longer than this is below 30 bpm: a missed beat or a dropout
MAX_RR_CHANGE_FRACTION = 0.20  # beat-to-beat change above 20 % of the last accepted RR is an artifact
MAX_CONSECUTIVE_DROPS = 5  # after this many drops in a row the reference follows the new rhythm
MS_PER_S = 1000.0


@dataclass(frozen=True)
class HrvSummary:
    """RMSSD and SDNN in ms (None when too few clean beats), with how many beats were kept."""

    rmssd_ms: float | None
    sdnn_ms: float | None
    beats_kept: int
    beats_dropped: int


def accepted_beats(rr_s) -> np.ndarray:
    """Boolean mask of the RR intervals (seconds) that pass the artifact rule above."""
    rr_s = np.asarray(rr_s, dtype=np.float64).ravel()
    in_range = np.isfinite(rr_s) & (rr_s >= RR_MIN_S) & (rr_s <= RR_MAX_S)
    keep = np.zeros(rr_s.shape, dtype=bool)
    if not in_range.any():
        return keep
    reference_s = float(np.median(rr_s[in_range][:MAX_CONSECUTIVE_DROPS]))
    drops_in_a_row = 0
    for i in np.flatnonzero(in_range):
        if abs(rr_s[i] - reference_s) <= MAX_RR_CHANGE_FRACTION * reference_s:
            keep[i], reference_s, drops_in_a_row = True, rr_s[i], 0
            continue
        drops_in_a_row += 1
        if drops_in_a_row >= MAX_CONSECUTIVE_DROPS:
            reference_s, drops_in_a_row = rr_s[i], 0
    return keep


def rmssd_ms(rr_s) -> float | None:
    """Root mean square of successive differences of clean neighbouring beats, in ms."""
    rr_s = np.asarray(rr_s, dtype=np.float64).ravel()
    keep = accepted_beats(rr_s)
    both = keep[1:] & keep[:-1]
    if not both.any():
        return None
    differences_ms = np.diff(rr_s)[both] * MS_PER_S
    return float(np.sqrt(np.mean(differences_ms**2)))


def sdnn_ms(rr_s) -> float | None:
    """Standard deviation (n - 1) of the clean RR intervals, in ms."""
    rr_s = np.asarray(rr_s, dtype=np.float64).ravel()
    clean_ms = rr_s[accepted_beats(rr_s)] * MS_PER_S
    if len(clean_ms) < 2:
        return None
    return float(np.std(clean_ms, ddof=1))


def hrv_summary(rr_s) -> HrvSummary:
    """RMSSD, SDNN and the count of beats kept and dropped, for a series of RR in seconds."""
    rr_s = np.asarray(rr_s, dtype=np.float64).ravel()
    kept = int(accepted_beats(rr_s).sum())
    return HrvSummary(rmssd_ms(rr_s), sdnn_ms(rr_s), kept, len(rr_s) - kept)
