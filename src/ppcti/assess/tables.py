"""Re-identification risk of the structured files of an upload, over the quasi-identifier columns that
the PII stage found in each (``pii.json``) and the ontology marks as quasi-identifiers.

Files are opened through :func:`ppcti.ingest.open_upload`, so the assessment reads an upload with the
same archive defences as ``ppcti run``. All values are read as strings (no type inference: postal codes
keep their leading zeros); only counts and ratios leave this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from ppcti.assess.evidence import RunEvidence
from ppcti.assess.generalise import KIND_BY_TYPE, suggest
from ppcti.assess.reid import assess_table
from ppcti.ingest import SourceFile, open_upload
from ppcti.pii.scan import read_csv, records_frame

#: Types whose numeric values are ordered for t-closeness.
NUMERIC_TYPES = frozenset({"AGE", "WEIGHT"})


def _json_records(source: SourceFile) -> Iterator[Any]:
    raw = source.local_path.read_bytes()
    if source.kind == "json":
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return
        yield from data if isinstance(data, list) else [data]
        return
    for line in raw.splitlines():
        if line.strip():
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError:
                continue


def _xlsx_frames(source: SourceFile) -> list[pl.DataFrame]:
    """One frame per sheet, columns named ``sheet!header`` as the PII stage names them."""
    sheets: dict[str, list[list[object]]] = {}
    for sheet, _row, values in source.iter_xlsx_rows():
        sheets.setdefault(sheet, []).append(values)
    frames = []
    for sheet, rows in sheets.items():
        width = max(len(r) for r in rows)
        header = [f"column_{i + 1}" if i >= len(rows[0]) or rows[0][i] is None else str(rows[0][i]).strip()
                  for i in range(width)]
        data = {f"{sheet}!{h}": [None if i >= len(r) or r[i] is None else str(r[i]) for r in rows[1:]]
                for i, h in enumerate(header)}
        frames.append(pl.DataFrame({k: pl.Series(k, v, dtype=pl.String) for k, v in data.items()}))
    return frames


def read_tables(source: SourceFile) -> list[pl.DataFrame]:
    """The file as frames of strings (one per sheet for XLSX); none for kinds that are not tables."""
    if source.kind == "csv":
        return [read_csv(source)]
    if source.kind in ("json", "ndjson"):
        return [records_frame(_json_records(source), limit=100_000_000)]
    if source.kind == "xlsx":
        return _xlsx_frames(source)
    return []


def _columns_by_file(ev: RunEvidence) -> dict[str, dict[str, str]]:
    """``file -> {column: type}`` for column findings (the most confident type per column)."""
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for f in ev.findings:
        if f.get("column") is None:
            continue
        key = (f["file"], f["column"])
        if key not in best or f["confidence"] > best[key][0]:
            best[key] = (f["confidence"], f["type"])
    out: dict[str, dict[str, str]] = {}
    for (file, column), (_c, t) in best.items():
        out.setdefault(file, {})[column] = t
    return out


def table_risks(ev: RunEvidence, inputs: list[Path], risk: dict[str, Any], population: int | None,
                holder: str) -> list[dict[str, Any]]:
    """Risk and generalisation suggestions for each file with at least one quasi-identifier column."""
    columns = _columns_by_file(ev)
    results: list[dict[str, Any]] = []
    if not inputs or not columns:
        return results
    with open_upload(inputs, holder=holder) as upload:
        for source in upload.files:
            typed = columns.get(source.path)
            if not typed:
                continue
            all_qis = sorted(c for c, t in typed.items() if ev.kinds.get(t) == "quasi")
            for df in read_tables(source) if all_qis else []:
                qis = [c for c in all_qis if c in df.columns]
                if qis and df.height:
                    results.append(_one_table(source.path, df, qis, typed, ev, risk, population))
    return results


def _one_table(path: str, df: pl.DataFrame, qis: list[str], typed: dict[str, str], ev: RunEvidence,
               risk: dict[str, Any], population: int | None) -> dict[str, Any]:
    wanted = set(risk["sensitive_columns"])
    sensitive = [c for c in df.columns if c in wanted or typed.get(c) in ev.special]
    report = assess_table(
        df, qis, sensitive=sensitive, threshold=risk["risk_threshold"], population=population,
        numeric_sensitive={c for c in sensitive if typed.get(c) in NUMERIC_TYPES},
    )
    kinds = {c: KIND_BY_TYPE.get(typed[c], "categorical") for c in qis}
    return {
        "file": path,
        "types": {c: typed[c] for c in qis},
        **report.to_dict(),
        "suggestion": suggest(
            df, qis, kinds, target_k=risk["target_k"], max_suppression=risk["max_suppression"]
        ),
        "source": "elemam-2008",
    }
