"""`make soak` lines for signed model updates: every attack refused, every bad model rolled back.

Prints `name=value` lines:
- update.attacks_tried: attacks played against a laptop with a model installed (at least 8)
- update.attacks_refused: of those, refused with the expected reason, the old model still active
  and running (must equal attacks_tried)
- update.bad_models_published: correctly signed models that fail to load, crash LiteRT, fail their smoke test
  or give non-finite outputs live
- update.bad_models_rolled_back: of those, rolled back by the laptop itself with the reason
  recorded, the old model active and running (must equal bad_models_published)
"""

from __future__ import annotations

import logging
import sys

from bench.update_attacks import ATTACKS, BAD_MODELS, BASELINE, describe, new_lab, play_attack, play_bad_model
from cloud_client.updates import REFUSED, ROLLED_BACK

logger = logging.getLogger(__name__)
MIN_ATTACKS = 8


def _held(lab, record, status: str, expect: str) -> bool:
    return (record.status == status and expect in record.reason and lab.active_version() == BASELINE
            and lab.active_model_runs())


def _count_held(cases, play, status: str, failure: str) -> int:
    """How many of `cases`, each played on a fresh lab, ended in `status` with the old model kept."""
    held = 0
    for case in cases:
        lab, tmp = new_lab()
        with tmp, lab:
            record = play(lab, case)
            ok = _held(lab, record, status, case.expect)
        held += ok
        if not ok:
            logger.error("%s: %s -> %s", failure, case.name, describe(record))
    return held


def run_update_soak() -> dict[str, int]:
    refused = _count_held(ATTACKS, play_attack, REFUSED, "attack not refused")
    rolled_back = _count_held(BAD_MODELS, play_bad_model, ROLLED_BACK, "bad model not rolled back")
    return {"update.attacks_tried": len(ATTACKS), "update.attacks_refused": refused,
            "update.bad_models_published": len(BAD_MODELS), "update.bad_models_rolled_back": rolled_back}


def update_soak_is_sound(figures: dict[str, float]) -> bool:
    return (figures["update.attacks_tried"] >= MIN_ATTACKS
            and figures["update.attacks_refused"] == figures["update.attacks_tried"]
            and figures["update.bad_models_rolled_back"] == figures["update.bad_models_published"])


def main() -> int:
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    figures = run_update_soak()
    for name, value in figures.items():
        print(f"{name}={value}", flush=True)
    return 0 if update_soak_is_sound(figures) else 1


if __name__ == "__main__":
    sys.exit(main())
