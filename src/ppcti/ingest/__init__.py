"""Safe ingestion of untrusted uploads: archives, directories and files in, typed source files out.

:func:`open_upload` is the one entry point. It extracts ZIPs member by member under the caps of
:class:`Limits`, refuses hostile or over-limit members (:class:`Refusal`), detects each file's kind and
encoding from its content, and returns an :class:`Upload` of :class:`SourceFile` objects that stream
their lines (:class:`LineBatch`) or spreadsheet rows in bounded memory.
"""

from ppcti.ingest.detect import CsvDialect
from ppcti.ingest.limits import Limits, Refusal
from ppcti.ingest.lines import LineBatch
from ppcti.ingest.source import KINDS, SourceFile
from ppcti.ingest.upload import Upload, open_upload

__all__ = ["KINDS", "CsvDialect", "Limits", "LineBatch", "Refusal", "SourceFile", "Upload", "open_upload"]
