"""The BlazePose person detector: letterboxed image in, the best person's box and keypoints out.

The model gives, for each of 2254 SSD anchors, 12 numbers (box centre offset x, y, box width,
height, then four keypoints x, y: hips centre, above-head point for the full body, shoulders
centre, above-head point for the upper body), in input pixels relative to the anchor, and one raw
score (a logit). We decode the boxes, keep scores above a threshold and merge overlapping
candidates with weighted non-maximum suppression. The box is a fixed-size square (~45 input pixels)
around the face, good for telling people apart, not for sizing them: the keypoints size the body.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge_models.pose.anchors import DETECTOR_INPUT_SIZE_PX, ssd_anchor_centres
from edge_models.runtime import ModelRunner

MIN_DETECTION_SCORE = 0.5  # a person the detector is at least this sure of
NMS_IOU = 0.3  # candidates overlapping more than this are the same person
SCORE_CLIP = 100.0  # raw logits are clipped to +-this before the sigmoid
NUM_KEYPOINTS = 4  # hips centre, full-body above-head point, shoulders centre, upper-body point
KEYPOINT_HIPS, KEYPOINT_ABOVE_HEAD = 0, 1


@dataclass(frozen=True)
class Letterbox:
    """How an image was scaled and padded into the detector's square input."""

    scale: float  # input pixels per image pixel
    pad_x_px: float  # padding on the left, in input pixels
    pad_y_px: float  # padding on the top, in input pixels

    def to_image(self, points_input_px: np.ndarray) -> np.ndarray:
        """(..., 2) detector-input pixels back to image pixels."""
        return (points_input_px - np.array([self.pad_x_px, self.pad_y_px])) / self.scale


@dataclass(frozen=True)
class PersonDetection:
    """One detected person in image pixels."""

    score: float  # 0-1
    box_xyxy_px: np.ndarray  # (4,) left, top, right, bottom
    keypoints_px: np.ndarray  # (4, 2)

    @property
    def hips_px(self) -> np.ndarray:
        return self.keypoints_px[KEYPOINT_HIPS]

    @property
    def above_head_px(self) -> np.ndarray:
        return self.keypoints_px[KEYPOINT_ABOVE_HEAD]


def letterbox(image_rgb: np.ndarray, size_px: int = DETECTOR_INPUT_SIZE_PX) -> tuple[np.ndarray, Letterbox]:
    """The image scaled to fit a square, centred on black, as float32 in [-1, 1]."""
    height, width = image_rgb.shape[:2]
    scale = size_px / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    pad_x, pad_y = (size_px - new_w) // 2, (size_px - new_h) // 2
    square = np.zeros((size_px, size_px, 3), np.uint8)
    square[pad_y:pad_y + new_h, pad_x:pad_x + new_w] = cv2.resize(
        image_rgb, (new_w, new_h), interpolation=cv2.INTER_AREA)
    tensor = square.astype(np.float32) * (2.0 / 255.0) - 1.0
    return tensor[None], Letterbox(scale=scale, pad_x_px=pad_x, pad_y_px=pad_y)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(x, np.float64), -SCORE_CLIP, SCORE_CLIP)))


def decode_boxes(raw: np.ndarray, anchors: np.ndarray, size_px: int = DETECTOR_INPUT_SIZE_PX) -> np.ndarray:
    """(n, 12) raw regressions -> (n, 12) absolute input pixels: box centre, size, 4 keypoints."""
    anchor_px = anchors * size_px
    decoded = raw.astype(np.float64).copy()
    decoded[:, 0:2] += anchor_px  # box centre x, y
    decoded[:, 4::2] += anchor_px[:, :1]  # keypoint x
    decoded[:, 5::2] += anchor_px[:, 1:]  # keypoint y
    return decoded


def centre_to_corners(decoded: np.ndarray) -> np.ndarray:
    """(n, >=4) centre x, y, width, height -> (n, 4) left, top, right, bottom."""
    half = decoded[:, 2:4] / 2.0
    return np.hstack([decoded[:, 0:2] - half, decoded[:, 0:2] + half])


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one (4,) box with each of (n, 4) boxes (corners)."""
    top_left = np.maximum(box[:2], boxes[:, :2])
    bottom_right = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
    union = _area(box) + _area(boxes) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def _area(boxes: np.ndarray) -> np.ndarray:
    return np.prod(np.clip(boxes[..., 2:] - boxes[..., :2], 0, None), axis=-1)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, values: np.ndarray,
                 iou_threshold: float = NMS_IOU, weighted: bool = True) -> list[tuple[float, np.ndarray]]:
    """Merge overlapping candidates, best first: (score, values) per distinct object.

    Weighted: each object's values are the score-weighted mean over the candidates it absorbs
    (steadier boxes and keypoints than the single best); plain: the best candidate's values.
    """
    order = np.argsort(-scores)
    kept: list[tuple[float, np.ndarray]] = []
    while order.size:
        best = order[0]
        overlap = iou(boxes[best], boxes[order]) > iou_threshold
        cluster = order[overlap]
        merged = np.average(values[cluster], axis=0, weights=scores[cluster]) if weighted else values[best]
        kept.append((float(scores[best]), merged))
        order = order[~overlap]
    return kept


class PoseDetector:
    """Finds people in a frame with the BlazePose detector model."""

    def __init__(self, runner: ModelRunner, min_score: float = MIN_DETECTION_SCORE,
                 iou_threshold: float = NMS_IOU, weighted_nms: bool = True) -> None:
        self._runner = runner
        self._anchors = ssd_anchor_centres()
        self._min_score = min_score
        self._iou = iou_threshold
        self._weighted = weighted_nms
        self._check_model()

    def _check_model(self) -> None:
        shapes = sorted(spec.shape for spec in self._runner.output_specs)
        expected = sorted([(1, len(self._anchors), 1), (1, len(self._anchors), 12)])
        if shapes != expected:
            raise ValueError(f"the pose detector should give outputs {expected}, this model gives {shapes}")

    def detect(self, image_rgb: np.ndarray) -> list[PersonDetection]:
        """People in the image, most confident first (image pixels)."""
        tensor, box = letterbox(image_rgb)
        outputs = self._runner.run(tensor)
        raw = next(v for v in outputs.values() if v.shape[-1] == 12)[0]
        scores = sigmoid(next(v for v in outputs.values() if v.shape[-1] == 1)[0, :, 0])
        keep = scores >= self._min_score
        if not keep.any():
            return []
        decoded = decode_boxes(raw[keep], self._anchors[keep])
        corners = centre_to_corners(decoded)
        values = np.hstack([corners, decoded[:, 4:]])
        return [self._to_detection(score, v, box) for score, v in
                weighted_nms(corners, scores[keep], values, self._iou, self._weighted)]

    @staticmethod
    def _to_detection(score: float, values: np.ndarray, box: Letterbox) -> PersonDetection:
        corners = box.to_image(values[:4].reshape(2, 2)).ravel()
        keypoints = box.to_image(values[4:].reshape(NUM_KEYPOINTS, 2))
        return PersonDetection(score=score, box_xyxy_px=corners, keypoints_px=keypoints)
