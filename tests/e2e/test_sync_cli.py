"""`trackside sync enrol|now|status` as a coach types them, against the real service on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from desktop.store import Store
from tests.support.cloud import ServiceThread, record_session, settings_for


def _trackside(*args, data_dir):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    return subprocess.run([sys.executable, "-c", "from desktop.cli import main; raise SystemExit(main())", *args,
                           "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=120, env=env)


def test_enrol_send_and_see_the_status(tmp_path, data_dir):
    with ServiceThread(settings_for(tmp_path / "cloud")) as service:
        code = service.enrol_code("Lions")
        refused = _trackside("sync", "enrol", service.url, code, data_dir=data_dir)  # no --allow-http
        enrolled = _trackside("sync", "enrol", service.url, code, "--allow-http", data_dir=data_dir)
        reused = _trackside("sync", "enrol", service.url, code, "--allow-http", data_dir=data_dir)
        with Store.open(data_dir) as store:
            record_session(store, athletes={"Ana": True})
        before = json.loads(_trackside("sync", "status", "--json", data_dir=data_dir).stdout)
        sent = _trackside("sync", "now", data_dir=data_dir)
        after = _trackside("sync", "status", data_dir=data_dir)

    assert refused.returncode == 2 and "--allow-http" in refused.stderr
    assert enrolled.returncode == 0 and "team Lions" in enrolled.stdout
    assert reused.returncode == 3 and "already used" in reused.stderr and "Traceback" not in reused.stderr
    assert before["enrolled"] and before["waiting"] == 1
    assert sent.returncode == 0 and "sent 1 item" in sent.stdout
    assert "everything is in the team's cloud" in after.stdout


def test_status_and_now_work_with_no_network_at_all(data_dir):
    status = _trackside("sync", "status", data_dir=data_dir)
    now = _trackside("sync", "now", data_dir=data_dir)
    assert status.returncode == 0 and "not enrolled" in status.stdout
    assert now.returncode == 3 and "trackside sync enrol" in now.stdout and "Traceback" not in now.stderr
