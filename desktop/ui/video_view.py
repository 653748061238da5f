"""The camera picture with the pose skeleton, and a banner for replay. Paints; decides nothing."""

from __future__ import annotations

import numpy as np

from desktop.replay_buffer import StillFrame
from desktop.ui.qt import QColor, QFont, QImage, QPainter, QPen, QPointF, QRectF, QSizePolicy, Qt, QWidget
from edge_models.pose.skeleton import SKELETON_EDGES

SKELETON_COLOUR = "#00FF66"
JOINT_COLOUR = "#FFFFFF"
MIN_VISIBILITY = 0.5  # landmarks less visible than this are not drawn
REPLAY_BANNER = "#FFDC00"


class VideoView(QWidget):
    """Shows one StillFrame, scaled to fit, with the skeleton of the pose found on it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(320, 180)
        self._frame: StillFrame | None = None
        self._image: QImage | None = None
        self._pose: tuple[np.ndarray, tuple[int, int]] | None = None
        self._banner = ""
        self.frames_painted = 0
        self.placeholder = "No camera"

    @property
    def frame(self) -> StillFrame | None:
        return self._frame

    @property
    def skeleton_shown(self) -> bool:
        return self._image is not None and self._pose is not None

    @property
    def banner(self) -> str:
        return self._banner

    def show_frame(self, frame: StillFrame, pose: tuple[np.ndarray, tuple[int, int]] | None) -> None:
        self._frame = frame
        height, width = frame.image.shape[:2]
        self._image = QImage(frame.image.data, width, height, frame.image.strides[0], QImage.Format_RGB32)
        self._pose = pose
        self.update()

    def set_banner(self, text: str) -> None:
        if text != self._banner:
            self._banner = text
            self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#000000"))
        if self._image is None:
            painter.setPen(QColor("#FFFFFF"))
            painter.drawText(self.rect(), Qt.AlignCenter, self.placeholder)
        else:
            target = self._target_rect()
            painter.drawImage(target, self._image)
            if self._pose is not None:
                self._draw_skeleton(painter, target)
            self.frames_painted += 1
        if self._banner:
            self._draw_banner(painter)
        painter.end()

    def _target_rect(self) -> QRectF:
        width, height = self._image.width(), self._image.height()
        scale = min(self.width() / width, self.height() / height)
        w, h = width * scale, height * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def _draw_skeleton(self, painter: QPainter, target: QRectF) -> None:
        landmarks, (source_w, source_h) = self._pose
        sx, sy = target.width() / source_w, target.height() / source_h
        points = [QPointF(target.x() + x * sx, target.y() + y * sy) for x, y, _ in landmarks]
        visible = landmarks[:, 2] >= MIN_VISIBILITY
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setPen(QPen(QColor(SKELETON_COLOUR), 4))
        for a, b in SKELETON_EDGES:
            if visible[a] and visible[b]:
                painter.drawLine(points[a], points[b])
        painter.setPen(QPen(QColor(JOINT_COLOUR), 7))
        for point, seen in zip(points[11:], visible[11:]):  # the body's joints; the face stays undrawn
            if seen:
                painter.drawPoint(point)

    def _draw_banner(self, painter: QPainter) -> None:
        font = QFont(self.font())
        font.setPointSize(16)
        font.setBold(True)
        painter.setFont(font)
        band = QRectF(0, 0, self.width(), 36)
        painter.fillRect(band, QColor(REPLAY_BANNER))
        painter.setPen(QColor("#000000"))
        painter.drawText(band, Qt.AlignCenter, self._banner)
