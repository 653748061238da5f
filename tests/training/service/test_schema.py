"""The migrations make exactly the tables the models describe, on both databases; the OpenAPI schema is whole."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from training.service.models import Base


def test_the_migrated_schema_matches_the_models(service):
    with service.app.state.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_openapi_schema_lists_every_operation_with_its_refusals(service):
    paths = service.app.openapi()["paths"]
    operations = {(method.upper(), path): op for path, ops in paths.items() for method, op in ops.items()}
    open_to_all = {("GET", "/v1/health"), ("POST", "/v1/enrol")}
    assert len(operations) == 16
    for key, op in operations.items():
        statuses = set(op["responses"])
        if key not in open_to_all:
            assert "401" in statuses, key
        if "{" in key[1]:
            assert "404" in statuses, key
    assert {"409", "413", "460"} <= set(operations[("PATCH", "/v1/uploads/{upload_id}")]["responses"])
    assert {"409", "422"} <= set(operations[("POST", "/v1/sessions/{session_id}/commit")]["responses"])
    assert {"202", "422"} <= set(operations[("POST", "/v1/teams/{team}/retrain")]["responses"])


def test_the_service_starts_without_tensorflow():
    loaded = subprocess.run([sys.executable, "-c", "import sys, training.service.main, training.service.cli; "
                             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', "
                             "'tf_keras', 'cv2', 'PySide6')))"], capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0 and loaded.stdout.strip() == "[]"
