"""Movement windows from the hand-labelled real clips, split by clip, never by window.

The label file (`training/data/movement_labels.csv`) says, per clip (and optionally per region of
the frame, to follow one of several people), what the followed athlete does from `start_s` to
`end_s`. The classes come from that file. A window is labelled when it ends inside a labelled
range, lies mostly inside it and does not straddle a change of the followed person.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_models.features import movement as mv
from training.movement.clips import ClipPoses, Region, clip_poses, parse_region

logger = logging.getLogger(__name__)

LABELS_CSV = Path(__file__).resolve().parent.parent / "data" / "movement_labels.csv"
WINDOW_S = mv.WINDOW_FRAMES / mv.FRAME_RATE_HZ  # 1 s of movement a window
MIN_INSIDE_FRACTION = 0.6  # a window needs 60 % of its second inside the labelled range
CSV_COLUMNS = ("clip", "region", "start_s", "end_s", "class", "note")


class LabelFileError(ValueError):
    """The label file is missing a column, or a row is not a valid labelled range."""


@dataclass(frozen=True)
class LabelledRange:
    """One row of the label file: what the followed athlete does in part of one clip."""

    clip: str
    region: Region
    start_s: float
    end_s: float
    label: str
    note: str

    @property
    def source(self) -> str:
        """The clip as seen through its region: the unit a split holds out."""
        return self.clip if self.region == (0.0, 0.0, 1.0, 1.0) else f"{self.clip}@{' '.join(map(str, self.region))}"


@dataclass(frozen=True)
class MovementWindows:
    """Model inputs with their class and phase labels, and where each came from."""

    inputs: np.ndarray  # (n, WINDOW_FRAMES, 99) float32
    classes: np.ndarray  # (n,) int, index into the label set
    phases: np.ndarray  # (n,) int, index into mv.PHASES
    sources: np.ndarray  # (n,) str, LabelledRange.source

    def __len__(self) -> int:
        return len(self.classes)

    def where(self, keep: np.ndarray) -> MovementWindows:
        return MovementWindows(self.inputs[keep], self.classes[keep], self.phases[keep], self.sources[keep])


def read_labels(path: Path = LABELS_CSV) -> list[LabelledRange]:
    """The labelled ranges, in file order. Raises LabelFileError naming the bad row."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
            raise LabelFileError(f"{path.name} must have columns {CSV_COLUMNS}, has {reader.fieldnames}")
        return [_row(row, i + 2) for i, row in enumerate(reader)]


def _row(row: dict[str, str], line: int) -> LabelledRange:
    try:
        start_s, end_s = float(row["start_s"]), float(row["end_s"])
    except ValueError as exc:
        raise LabelFileError(f"line {line}: start_s and end_s must be numbers") from exc
    if not 0 <= start_s < end_s or not row["class"].strip():
        raise LabelFileError(f"line {line}: needs 0 <= start_s < end_s and a class")
    return LabelledRange(row["clip"], parse_region(row["region"]), start_s, end_s,
                         row["class"].strip(), row["note"])


def label_set(ranges: list[LabelledRange]) -> tuple[str, ...]:
    """The classes, in order of first appearance in the label file."""
    return tuple(dict.fromkeys(r.label for r in ranges))


def range_windows(poses: ClipPoses, labelled: LabelledRange) -> list[np.ndarray]:
    """Normalised (WINDOW_FRAMES, 33, 3) windows ending at each frame of a labelled range."""
    starts_s = poses.t_s[mv.track_starts(poses.landmarks)]
    windows = []
    for end_s in poses.t_s[(poses.t_s >= labelled.start_s) & (poses.t_s < labelled.end_s)]:
        window_start_s = end_s - WINDOW_S
        inside = (end_s - max(window_start_s, labelled.start_s)) / WINDOW_S
        track_start_s = starts_s[starts_s <= end_s].max(initial=np.inf if starts_s.size == 0 else -np.inf)
        same_track = track_start_s <= window_start_s + 1 / poses.fps
        if inside < MIN_INSIDE_FRACTION or not same_track:
            continue
        raw = mv.resample_poses(poses.t_s, poses.landmarks, mv.window_grid(float(end_s)))
        window = mv.normalise_window(raw)
        if window is not None:
            windows.append(window)
    return windows


def labelled_windows(ranges: list[LabelledRange], labels: tuple[str, ...]) -> MovementWindows:
    """Every window of every labelled range, as model inputs with class and phase labels."""
    inputs, classes, phases, sources = [], [], [], []
    for labelled in ranges:
        windows = range_windows(clip_poses(labelled.clip, labelled.region), labelled)
        logger.info("%s %.2f-%.2f s %s: %d windows", labelled.source, labelled.start_s,
                    labelled.end_s, labelled.label, len(windows))
        inputs += [mv.flatten(w) for w in windows]
        phases += [mv.phase_index(w) for w in windows]
        classes += [labels.index(labelled.label)] * len(windows)
        sources += [labelled.source] * len(windows)
    return MovementWindows(np.stack(inputs).astype(np.float32), np.array(classes, dtype=np.int64),
                           np.array(phases, dtype=np.int64), np.array(sources))


@dataclass(frozen=True)
class MovementSplit:
    train: MovementWindows
    test: MovementWindows
    labels: tuple[str, ...]
    test_sources: tuple[str, ...]


def split_by_source(windows: MovementWindows, labels: tuple[str, ...],
                    test_sources: tuple[str, ...]) -> MovementSplit:
    """Whole clips (or whole people in a clip) held out: no window of theirs is trained on."""
    unknown = set(test_sources) - set(windows.sources)
    if unknown:
        raise LabelFileError(f"held-out sources {sorted(unknown)} have no labelled windows")
    held = np.isin(windows.sources, test_sources)
    return MovementSplit(windows.where(~held), windows.where(held), labels, tuple(test_sources))


def augment(windows: MovementWindows, copies: int, rng: np.random.Generator) -> MovementWindows:
    """The originals, their mirror images, and `copies` randomly rescaled, jittered and
    time-warped versions of each; the phase label is recomputed (time warp changes speed)."""
    made = [mv.unflatten(x) for x in windows.inputs]
    made += [mv.mirror(w) for w in made[:len(windows)]]
    base = list(made)
    for _ in range(copies):
        made += [_random_variant(w, rng) for w in base]
    reps = len(made) // len(windows)
    return MovementWindows(np.stack([mv.flatten(w) for w in made]),
                           np.tile(windows.classes, reps),
                           np.array([mv.phase_index(w) for w in made], dtype=np.int64),
                           np.tile(windows.sources, reps))


SCALE_RANGE = (0.85, 1.15)  # torso length mis-measured by up to 15 %
JITTER_TORSO = 0.02  # landmark noise: 2 % of a torso length
SPEED_RANGE = (0.75, 1.3)  # the same movement a quarter slower to a third faster


def _random_variant(window: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = mv.time_warp(window, float(rng.uniform(*SPEED_RANGE)))
    out = mv.scale(out, float(rng.uniform(*SCALE_RANGE)))
    return mv.jitter(out, rng, JITTER_TORSO)


def digest(windows: MovementWindows) -> str:
    """sha256 over the training windows and their labels: which data made a model."""
    h = hashlib.sha256()
    for array in (windows.inputs, windows.classes, windows.phases):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()
