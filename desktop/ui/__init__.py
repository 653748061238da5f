"""The coach's window: a thin Qt view over the Qt-free core (recorder, store, feedback workers).

Only this package imports Qt, and inside it only `desktop.ui.qt` imports PySide6 directly.
"""
