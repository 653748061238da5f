"""Live and after-session heart-rate analytics: pure functions over samples, no I/O."""

from desktop.analytics.hrv import HrvSummary, accepted_beats, hrv_summary, rmssd_ms, sdnn_ms
from desktop.analytics.live import LiveAthleteState
from desktop.analytics.recovery import hr_at, hrr60_bpm
from desktop.analytics.trimp import trimp_banister, trimp_edwards
from desktop.analytics.zones import AthleteProfile, ZoneError, ZoneModel, time_in_zones_s, zone_of

__all__ = [
    "AthleteProfile", "HrvSummary", "LiveAthleteState", "ZoneError", "ZoneModel", "accepted_beats",
    "hr_at", "hrr60_bpm", "hrv_summary", "rmssd_ms", "sdnn_ms", "time_in_zones_s", "trimp_banister",
    "trimp_edwards", "zone_of",
]
