"""Pattern analysis across data holders: attacked infrastructure, botnets and sweeps, shared attackers.

The public face is :func:`analyse` (events in, ``insights.json`` and ``infrastructure.json`` out),
:func:`write_report` (``report.html``) and :class:`AnalysisOptions` (every threshold, with defaults).
"""

from ppcti.analysis.engine import INFRASTRUCTURE_FILE, INSIGHTS_FILE, STAGES, analyse
from ppcti.analysis.options import AnalysisOptions
from ppcti.analysis.report import REPORT_FILE, write_report

__all__ = [
    "INFRASTRUCTURE_FILE",
    "INSIGHTS_FILE",
    "REPORT_FILE",
    "STAGES",
    "AnalysisOptions",
    "analyse",
    "write_report",
]
