"""The one module that imports Qt. Every other module in `desktop.ui` takes Qt names from here.

Keeping the binding in one place means a change of binding or version touches one file, and the
import contract in pyproject.toml can say exactly where PySide6 may appear.
"""

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: F401
from PySide6.QtCore import (  # noqa: F401
    QObject, QRectF, QPointF, QSize, Qt, QThread, QTimer, Signal, Slot,
)
from PySide6.QtGui import (  # noqa: F401
    QAction, QColor, QFont, QImage, QKeySequence, QPainter, QPalette, QPen, QPixmap, QShortcut,
)
from PySide6.QtWidgets import (  # noqa: F401
    QApplication, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QFrame,
    QGridLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QMainWindow, QMessageBox, QPushButton, QSizePolicy, QSlider, QSpinBox, QStackedWidget,
    QStatusBar, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget,
)

# -- added for the sessions, athletes, models and recovery screens (kept in one block to ease merging)
from PySide6.QtCore import QModelIndex  # noqa: F401,E402
from PySide6.QtGui import QBrush, QCloseEvent, QKeyEvent  # noqa: F401,E402
from PySide6.QtWidgets import (  # noqa: F401,E402
    QAbstractItemView, QCheckBox, QGroupBox, QScrollArea, QSplitter, QTextBrowser,
)
