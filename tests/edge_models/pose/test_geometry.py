"""Pose geometry on hand-made numbers: anchors, box decoding, suppression, crops, letterbox."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_models.pose.anchors import ssd_anchor_centres
from edge_models.pose.detector import centre_to_corners, decode_boxes, iou, letterbox, weighted_nms
from edge_models.pose.roi import Roi, crop, crop_matrix, crop_to_image, roi_from_points
from edge_models.runtime import ModelRunner
from tests.support.assets import real_asset


def test_anchor_count_matches_the_detector_model():
    with ModelRunner.from_path(real_asset("pose_detection.tflite"), warmup_runs=0) as runner:
        n_model = max(spec.shape[1] for spec in runner.output_specs)
    assert len(ssd_anchor_centres()) == n_model == 2254


def test_anchors_are_cell_centres_in_model_order():
    anchors = ssd_anchor_centres()
    # The first two anchors sit on the top-left 8-pixel cell of the 224 input; the last on the
    # bottom-right 32-pixel cell.
    np.testing.assert_allclose(anchors[0], [4 / 224, 4 / 224])
    np.testing.assert_allclose(anchors[1], anchors[0])
    np.testing.assert_allclose(anchors[2], [12 / 224, 4 / 224])
    np.testing.assert_allclose(anchors[-1], [208 / 224, 208 / 224])
    assert ((anchors > 0) & (anchors < 1)).all()


def test_decode_adds_anchor_centres_in_pixels():
    raw = np.zeros((1, 12))
    raw[0, :4] = [10, -5, 40, 80]  # centre offset x, y; width; height
    raw[0, 4:6] = [3, 7]  # first keypoint offset
    decoded = decode_boxes(raw, np.array([[0.5, 0.25]]))
    assert decoded[0, :4].tolist() == [122, 51, 40, 80]
    assert decoded[0, 4:6].tolist() == [115, 63]
    assert centre_to_corners(decoded)[0].tolist() == [102, 11, 142, 91]


def test_iou():
    box = np.array([0.0, 0.0, 10.0, 10.0])
    others = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], float)
    np.testing.assert_allclose(iou(box, others), [1.0, 50 / 150, 0.0])


def test_weighted_nms_merges_one_person_and_keeps_another():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], float)
    scores = np.array([0.9, 0.6, 0.7])
    values = np.array([[0.0], [10.0], [100.0]])
    kept = weighted_nms(boxes, scores, values, iou_threshold=0.3)
    assert [round(s, 2) for s, _ in kept] == [0.9, 0.7]
    assert kept[0][1][0] == pytest.approx(10.0 * 0.6 / 1.5)  # score-weighted mean of 0 and 10
    plain = weighted_nms(boxes, scores, values, iou_threshold=0.3, weighted=False)
    assert plain[0][1][0] == 0.0


def test_letterbox_keeps_aspect_and_maps_back():
    image = np.zeros((100, 200, 3), np.uint8)
    image[40:60, 90:110] = 255  # a white square in the middle
    tensor, box = letterbox(image)
    assert tensor.shape == (1, 224, 224, 3)
    assert tensor.min() == -1.0 and tensor.max() == pytest.approx(1.0)
    bright = np.argwhere(tensor[0, :, :, 0] > 0)  # (row, col)
    centre_input = bright.mean(axis=0)[::-1]
    np.testing.assert_allclose(box.to_image(centre_input), [99.5, 49.5], atol=1.0)


def test_upright_body_needs_no_rotation():
    roi = roi_from_points(np.array([100.0, 200.0]), np.array([100.0, 100.0]))
    assert roi.rotation_rad == pytest.approx(0.0)
    assert roi.side_px == pytest.approx(2 * 100 * 1.25)


def test_lying_body_is_turned_upright():
    # Head to the right of the hips: the crop must turn the body a quarter turn.
    roi = roi_from_points(np.array([100.0, 100.0]), np.array([180.0, 100.0]))
    assert abs(roi.rotation_rad) == pytest.approx(math.pi / 2)
    head_in_crop = crop_matrix(roi) @ np.array([180.0, 100.0, 1.0])
    hips_in_crop = crop_matrix(roi) @ np.array([100.0, 100.0, 1.0])
    assert head_in_crop[1] < hips_in_crop[1]  # the head is above the hips in the crop
    assert head_in_crop[0] == pytest.approx(hips_in_crop[0])


def test_crop_and_back_are_inverse():
    roi = Roi(320.0, 240.0, 300.0, 0.4)
    points = np.array([[10.0, 20.0], [128.0, 128.0], [250.0, 3.0]])
    image_points = crop_to_image(points, roi)
    back = (crop_matrix(roi) @ np.hstack([image_points, np.ones((3, 1))]).T).T
    np.testing.assert_allclose(back, points, atol=1e-9)


def test_crop_cuts_the_region_and_blacks_outside_the_frame():
    image = np.full((100, 100, 3), 200, np.uint8)
    patch = crop(image, Roi(0.0, 0.0, 100.0, 0.0), size_px=64)
    assert patch.shape == (64, 64, 3)
    assert patch[:30, :30].max() == 0  # above-left of the frame
    assert patch[40:, 40:].min() == 200  # inside the frame
