"""Consent as three choices per athlete, the migration from the single flag, and strap pairing."""

from __future__ import annotations

import math
import sqlite3

import pytest

from desktop.recorder import AthleteProfile, Recorder
from desktop.sources.heart_rate.simulated import SimulatedHeartRateSource
from desktop.store import DB_NAME, AthleteNotFound, Store
from desktop.store.schema import migrate

WAIT_LIMIT_S = 60.0  # a simulated recording at full speed that has not ended by then has hung


def _version_2_file_with_athletes(data_dir) -> None:
    """A data file from before the three consents: Ana said yes to storage, Ben said no."""
    conn = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    migrate(conn, target=2)
    conn.execute("INSERT INTO athletes (name, hr_max_bpm, hr_rest_bpm, consent, consent_changed_utc) "
                 "VALUES ('Ana', 195, 48, 1, '2025-05-03T09:30:00+00:00')")
    conn.execute("INSERT INTO athletes (name, hr_max_bpm, hr_rest_bpm, consent) VALUES ('Ben', 185, 55, 0)")
    conn.close()


def test_the_old_single_consent_becomes_record_consent_and_cloud_and_training_start_at_no(data_dir):
    _version_2_file_with_athletes(data_dir)
    with Store.open(data_dir) as store:
        ana, ben = store.athlete_by_name("Ana"), store.athlete_by_name("Ben")
    assert (ana.consent_record, ana.consent_cloud, ana.consent_training) == (True, False, False)
    assert (ben.consent_record, ben.consent_cloud, ben.consent_training) == (False, False, False)
    assert ana.consent_changed_utc.year == 2025  # the migration is not a new answer from the athlete
    assert ana.strap_address is None


def test_each_consent_changes_alone(data_dir):
    with Store.open(data_dir) as store:
        ana = store.add_athlete("Ana", 195, 48)
        assert (ana.consent, ana.consent_cloud, ana.consent_training) == (True, False, False)
        store.set_consent(ana.id, training=True)
        after = store.set_consent(ana.id, cloud=True)
        assert (after.consent, after.consent_cloud, after.consent_training) == (True, True, True)
        after = store.set_consent(ana.id, False)  # the old form: record consent
        assert (after.consent, after.consent_cloud, after.consent_training) == (False, True, True)
        with pytest.raises(ValueError, match="which consent"):
            store.set_consent(ana.id)
        with pytest.raises(AthleteNotFound):
            store.set_consent(ana.id + 100, cloud=True)


def test_the_recorder_keeps_heart_rate_by_record_consent_only(data_dir):
    with Store.open(data_dir) as store:
        keeps = store.add_athlete("Keeps", 195, 50, consent=True, consent_cloud=False, consent_training=False)
        refuses = store.add_athlete("Refuses", 190, 55, consent=False, consent_cloud=True, consent_training=True)
    athletes = {"sim-1": AthleteProfile(keeps.id, "Keeps", 195, 50, keeps.consent_record),
                "sim-2": AthleteProfile(refuses.id, "Refuses", 190, 55, refuses.consent_record)}
    recorder = Recorder(data_dir, [SimulatedHeartRateSource(2, speed=math.inf, duration_s=19)], athletes=athletes)
    recorder.start()
    recorder.wait(WAIT_LIMIT_S)
    recorder.stop()
    with Store.open(data_dir) as store:
        (session,) = store.list_sessions()
        assert len(store.hr_samples(session.id, "sim-1")) == 20
        assert store.hr_samples(session.id, "sim-2") == []


def test_a_strap_is_paired_to_one_athlete_at_a_time(data_dir):
    with Store.open(data_dir) as store:
        ana, ben = store.add_athlete("Ana", 195, 48), store.add_athlete("Ben", 185, 55)
        store.pair_strap(ana.id, "d0:00:00:00:00:0a", "Polar H10 A")
        assert store.athlete_by_strap("D0:00:00:00:00:0A").name == "Ana"
        store.pair_strap(ben.id, "D0:00:00:00:00:0A", "Polar H10 A")  # the strap changes hands
        assert store.athlete(ana.id).strap_address is None
        assert (store.athlete(ben.id).strap_address, store.athlete(ben.id).strap_name) == (
            "D0:00:00:00:00:0A", "Polar H10 A")
        assert store.unpair_strap(ben.id).strap_address is None
        assert store.athlete_by_strap("D0:00:00:00:00:0A") is None


def test_an_athlete_is_edited_and_a_clash_of_names_is_refused(data_dir):
    with Store.open(data_dir) as store:
        ana, _ = store.add_athlete("Ana", 195, 48), store.add_athlete("Ben", 185, 55)
        edited = store.update_athlete(ana.id, name="Ana Lopez", hr_max_bpm=198, hr_rest_bpm=45)
        assert (edited.name, edited.hr_max_bpm, edited.hr_rest_bpm) == ("Ana Lopez", 198, 45)
        with pytest.raises(ValueError, match="already exists"):
            store.update_athlete(ana.id, name="Ben", hr_max_bpm=198, hr_rest_bpm=45)
        with pytest.raises(ValueError, match="resting HR"):
            store.update_athlete(ana.id, name="Ana", hr_max_bpm=100, hr_rest_bpm=120)
        assert store.athlete(ana.id) == edited
