"""`trackside athletes consent`: the old yes|no form is record consent; each choice can be set alone."""

from __future__ import annotations

import json

from desktop.cli import EXIT_USAGE, main


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def listed(capsys, data_dir) -> dict:
    code, out, _ = run(capsys, "athletes", "list", "--json", "--data-dir", data_dir)
    assert code == 0
    return {a["name"]: (a["consent"], a["consent_cloud"], a["consent_training"]) for a in json.loads(out)}


def test_consent_yes_no_still_means_record_and_the_options_set_cloud_and_training(capsys, data_dir):
    run(capsys, "athletes", "add", "Bob", "--hr-max", 188, "--hr-rest", 58, "--no-consent", "--data-dir", data_dir)
    assert listed(capsys, data_dir) == {"Bob": (False, False, False)}

    code, out, _ = run(capsys, "athletes", "consent", "Bob", "yes", "--data-dir", data_dir)
    assert code == 0 and "record yes cloud no training no" in out
    assert run(capsys, "athletes", "consent", "Bob", "--training", "yes", "--data-dir", data_dir)[0] == 0
    assert listed(capsys, data_dir) == {"Bob": (True, False, True)}
    run(capsys, "athletes", "consent", "Bob", "--record", "no", "--cloud", "yes", "--data-dir", data_dir)
    assert listed(capsys, data_dir) == {"Bob": (False, True, True)}


def test_a_consent_command_that_says_nothing_or_contradicts_itself_changes_nothing(capsys, data_dir):
    run(capsys, "athletes", "add", "Bob", "--hr-max", 188, "--hr-rest", 58, "--data-dir", data_dir)
    code, _, err = run(capsys, "athletes", "consent", "Bob", "--data-dir", data_dir)
    assert code == EXIT_USAGE and "say yes or no" in err and "Traceback" not in err
    code, _, err = run(capsys, "athletes", "consent", "Bob", "yes", "--record", "no", "--data-dir", data_dir)
    assert code == EXIT_USAGE and "disagree" in err
    assert listed(capsys, data_dir) == {"Bob": (True, False, False)}
