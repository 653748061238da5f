"""Where `trackside` keeps its data: --data-dir, else $TRACKSIDE_DATA_DIR, else the user data folder."""

from __future__ import annotations

import sys

import pytest

from desktop.cli import main
from desktop.errors import EXIT_OK

ADD_ATHLETE = ["athletes", "add", "Ana", "--hr-max", "190", "--hr-rest", "50"]
STORE_FILE = "trackside.sqlite"


@pytest.fixture
def user_data_home(tmp_path, monkeypatch):
    """The platform's user data folder moved into tmp_path (XDG_DATA_HOME is what Linux reads)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("XDG_DATA_HOME moves the user data folder on Linux only")
    home = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.delenv("TRACKSIDE_DATA_DIR", raising=False)
    return home


def test_without_a_choice_the_data_lives_in_the_user_data_folder(user_data_home, capsys):
    assert main(ADD_ATHLETE) == EXIT_OK
    assert (user_data_home / "Trackside" / STORE_FILE).is_file()


def test_the_environment_comes_before_the_default_and_the_flag_before_both(user_data_home, tmp_path, monkeypatch,
                                                                           capsys):
    monkeypatch.setenv("TRACKSIDE_DATA_DIR", str(tmp_path / "from-env"))
    assert main(ADD_ATHLETE) == EXIT_OK
    assert main([*ADD_ATHLETE[:2], "Bo", *ADD_ATHLETE[3:], "--data-dir", str(tmp_path / "from-flag")]) == EXIT_OK
    assert (tmp_path / "from-env" / STORE_FILE).is_file() and (tmp_path / "from-flag" / STORE_FILE).is_file()
    assert not (user_data_home / "Trackside").exists()
