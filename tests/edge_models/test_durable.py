"""Private folders and files: owner only, whatever the umask; looser ones tightened, shared ones left."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from edge_models.durable import make_private_dir, make_private_file, write_file_atomically

pytestmark = pytest.mark.skipif(os.name == "nt", reason="Windows grants access by ACLs, not file modes")


def mode_of(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_folders_and_files_are_private_under_the_loosest_umask(tmp_path):
    before = os.umask(0)
    try:
        folder = make_private_dir(tmp_path / "a" / "b")
        file = make_private_file(folder / "data")
        written = write_file_atomically(folder / "slots.json", b"{}")
    finally:
        os.umask(before)
    assert [oct(mode_of(p)) for p in (folder, file, written)] == ["0o700", "0o600", "0o600"]


def test_a_folder_left_open_is_tightened_and_the_log_says_so(tmp_path, caplog):
    folder = tmp_path / "old"
    folder.mkdir()
    folder.chmod(0o755)
    with caplog.at_level(logging.WARNING):
        make_private_dir(folder)
    assert mode_of(folder) == 0o700
    assert f"{folder} was open to other users of this computer (mode 0755); now 0700" in caplog.text


def test_a_shared_sticky_folder_is_left_as_it_is(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    make_private_dir(shared)
    assert mode_of(shared) == 0o1777


def test_a_file_where_a_folder_is_expected_is_refused(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(NotADirectoryError, match="a file, not a folder"):
        make_private_dir(tmp_path / "a-file")
