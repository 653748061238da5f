"""What the `trackside` command tells the shell, and which errors are the user's to fix.

Exit codes (the README's table):

    0  done
    2  bad arguments: a value the command cannot take (fix the command line)
    3  a file, device, session or athlete that cannot be used (fix what the command points at)

Errors the user can fix end in one line on stderr and one of the codes above, never a traceback:

    CliError              raised by the commands themselves, with its exit code
    StoreError            the data file is damaged, newer than this Trackside, locked, ... (3)
    ExportError           a session that cannot be written in the format asked for (3)
    ModelStoreError       an installed model that cannot be used (3)
    OSError               a path that is a file where a folder is needed, no permission, disk full (3)

Anything else is a bug and keeps its traceback. This module imports nothing from the commands, so
`python -m desktop.cli` (which loads the CLI module as `__main__`) and the commands see one
`CliError` class.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_UNUSABLE = 3


class CliError(Exception):
    """A problem the user can fix; printed as one line without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_UNUSABLE):
        super().__init__(message)
        self.exit_code = exit_code


def user_error_types() -> tuple[type[BaseException], ...]:
    """The exception types that mean "the user can fix this" (imported when first needed)."""
    from desktop.export import ExportError
    from desktop.store import StoreError
    from edge_models.model_store import ModelStoreError

    return (CliError, StoreError, ExportError, ModelStoreError, OSError)


def exit_code_of(exc: BaseException) -> int:
    """The exit code a user error ends the command with."""
    return exc.exit_code if isinstance(exc, CliError) else EXIT_UNUSABLE


def one_line(exc: BaseException) -> str:
    """The error as one line for stderr: a file error names its file, every line break is folded."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        text = f"cannot use {exc.filename}: {exc.strerror}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())
