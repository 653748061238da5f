"""Export a recorded session to files other tools read: CSV, TCX and FIT."""

from desktop.export.csv_export import CSV_COLUMNS, export_csv
from desktop.export.fit_export import export_fit
from desktop.export.from_store import EXPORT_FORMATS, export_session, session_from_store
from desktop.export.session import ExportAthlete, ExportError, ExportSession
from desktop.export.tcx_export import export_tcx

__all__ = ["CSV_COLUMNS", "EXPORT_FORMATS", "ExportAthlete", "ExportError", "ExportSession", "export_csv",
           "export_fit", "export_session", "export_tcx", "session_from_store"]
