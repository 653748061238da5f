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


def run_update_soak() -> dict[str, int]:
    refused = rolled_back = 0
    for attack in ATTACKS:
        lab, tmp = new_lab()
        with tmp, lab:
            record = play_attack(lab, attack)
            ok = _held(lab, record, REFUSED, attack.expect)
        refused += ok
        if not ok:
            logger.error("attack not refused: %s -> %s", attack.name, describe(record))
    for bad in BAD_MODELS:
        lab, tmp = new_lab()
        with tmp, lab:
            record = play_bad_model(lab, bad)
            ok = _held(lab, record, ROLLED_BACK, bad.expect)
        rolled_back += ok
        if not ok:
            logger.error("bad model not rolled back: %s -> %s", bad.name, describe(record))
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
