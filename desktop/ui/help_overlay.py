"""The help overlay: every shortcut of the window, over the window, until F1, ? or Esc."""

from __future__ import annotations

from desktop.ui.commands import Command
from desktop.ui.qt import QColor, QEvent, QFont, QPainter, QRectF, Qt, QWidget

ROW_HEIGHT_PX = 30


class HelpOverlay(QWidget):
    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.commands: list[Command] = []
        self.setFocusPolicy(Qt.StrongFocus)
        self.hide()

    def toggle(self, commands: list[Command]) -> None:
        self.commands = commands
        if self.isVisible():
            self.hide()
            return
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()
        self.setFocus()

    def event(self, event) -> bool:
        if event.type() == QEvent.ShortcutOverride:  # while shown, every key closes it (Esc too)
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.hide()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.hide()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 225))
        font = QFont(self.font())
        font.setPointSize(14)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#FFDC00"))
        painter.drawText(QRectF(40, 16, self.width() - 80, 40), Qt.AlignLeft, "Keys  (any key closes this)")
        y = 64
        column_w = (self.width() - 80) / 2
        for i, command in enumerate(self.commands):
            column, row = divmod(i, max(1, (self.height() - 80) // ROW_HEIGHT_PX))
            x, y = 40 + column * column_w, 64 + row * ROW_HEIGHT_PX
            painter.setPen(QColor("#FFDC00"))
            painter.drawText(QRectF(x, y, 170, ROW_HEIGHT_PX), Qt.AlignLeft, command.keys_text)
            painter.setPen(QColor("#FFFFFF"))
            painter.drawText(QRectF(x + 175, y, column_w - 180, ROW_HEIGHT_PX), Qt.AlignLeft,
                             f"{command.name}  ({command.group})")
        painter.end()
