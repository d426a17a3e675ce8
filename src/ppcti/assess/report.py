"""The assessment as HTML: a section for ``report.html`` and a page of its own (``assessment.html``).

Values are escaped by Jinja2's autoescaping (file and column names come from the upload). The section is
placed into an existing report between two marker comments, so assessing again replaces it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

START = "<!-- ppcti:assessment:start -->"
END = "<!-- ppcti:assessment:end -->"


def render_section(assessment: dict[str, Any]) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    text = resources.files("ppcti.assess").joinpath("data/assessment_section.html").read_text("utf-8")
    return env.from_string(text).render(a=assessment)


def render_page(section: str) -> str:
    return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>ppcti privacy assessment</title></head><body>\n" + section + "\n</body></html>\n")


def insert_section(report_html: str, section: str) -> str:
    """``report_html`` with the section placed (or replaced) before ``</body>``."""
    block = f"{START}\n{section}\n{END}"
    if START in report_html and END in report_html:
        head, rest = report_html.split(START, 1)
        return head + block + rest.split(END, 1)[1]
    at = report_html.rfind("</body>")
    if at < 0:
        return report_html + "\n" + block + "\n"
    return report_html[:at] + block + "\n" + report_html[at:]


def update_report(path: Path, section: str) -> bool:
    """Put the section into the report at ``path`` if there is one; ``True`` when it did."""
    if not path.is_file() or path.is_symlink():
        return False
    path.write_text(insert_section(path.read_text("utf-8"), section), "utf-8")
    return True
