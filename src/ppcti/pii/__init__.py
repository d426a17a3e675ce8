"""ppcti.pii: which personal data an upload holds, per table column and per free-text span.

Public face: :func:`scan_upload` / :func:`scan_paths` for whole uploads, :func:`classify_table` and
:func:`analyze_text` for in-memory data, :func:`write_pii_json` for the report. Heavy dependencies
(Presidio, spaCy) load lazily on the first free-text analysis.
"""

from ppcti.pii.columns import classify_table
from ppcti.pii.model import Finding, PiiReport
from ppcti.pii.options import TYPE_IDS, PiiOptions
from ppcti.pii.scan import scan_paths, scan_upload, write_pii_json
from ppcti.pii.text import analyze_text

__all__ = [
    "TYPE_IDS",
    "Finding",
    "PiiOptions",
    "PiiReport",
    "analyze_text",
    "classify_table",
    "scan_paths",
    "scan_upload",
    "write_pii_json",
]
