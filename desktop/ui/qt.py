"""The one module that imports Qt. Every other module in `desktop.ui` takes Qt names from here.

Keeping the binding in one place means a change of binding or version touches one file, and the
import contract in pyproject.toml can say exactly where PySide6 may appear.
"""

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: F401
from PySide6.QtCore import (  # noqa: F401
    QCoreApplication, QEvent, QModelIndex, QObject, QPointF, QRectF, QSize, Qt, QThread, QTimer, Signal, Slot,
)
from PySide6.QtGui import (  # noqa: F401
    QAction, QBrush, QCloseEvent, QColor, QFont, QFontMetrics, QImage, QKeyEvent, QKeySequence, QPainter,
    QPaintEvent, QPalette, QPen, QPixmap, QShortcut,
)
from PySide6.QtWidgets import (  # noqa: F401
    QAbstractItemView, QApplication, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QFrame,
    QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QMainWindow, QMessageBox, QPushButton, QScrollArea, QSizePolicy, QSlider, QSpinBox, QSplitter,
    QStackedWidget, QStatusBar, QTableWidget, QTableWidgetItem, QTabWidget, QTextBrowser, QToolButton, QVBoxLayout, QWidget,
)

from shiboken6 import isValid as is_alive  # noqa: F401  (False once the C++ object is deleted)

QT_VERSION = QtCore.qVersion()

