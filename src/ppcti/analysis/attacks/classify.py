"""Classify every event: which malicious action it shows, how sure we are, and what says so.

Detectors, each producing ``(row, cls, confidence, rule, field, detail)`` for the rows it recognises:

* ``signature``: IDS alert names and categories (:mod:`.signatures`), once per distinct pair;
* ``payload``: HTTP request fields (URL, payload, user agent) through :mod:`.payload`, once per
  distinct value;
* ``firewall``: a drop/reject chain or prefix on an inbound entry is a blocked probe;
* ``email``: the export's verdict (phish, malware, spam), and for entries without one, the subject;
* behavioural rules over windows (:mod:`.behaviour`): brute force, vertical and horizontal scans, floods.

The most specific class wins per event (:data:`~.taxonomy.CLASS_ORDER`), ties go to the higher
confidence; the other classes found are kept in ``classes``. Everything is columnar: Python runs only
per distinct signature or payload value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from ppcti.analysis.attack_fields import ATTACK_EXTRA_FIELDS, HTTP_FIELDS
from ppcti.analysis.attacks.behaviour import behaviour
from ppcti.analysis.attacks.options import AttackOptions
from ppcti.analysis.attacks.payload import detect
from ppcti.analysis.attacks.signatures import classify_signature
from ppcti.analysis.attacks.taxonomy import CLASS_ORDER, CLASSES
from ppcti.analysis.load import resolve_inputs, scan_file

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"

#: Every ``extra`` field classification reads (sender and verdict included).
EXTRA_FIELDS: tuple[str, ...] = ("sender", "verdict", *ATTACK_EXTRA_FIELDS)

SCAN_SCHEMA: dict[str, pl.DataType] = {
    "holder": pl.String(),
    "format": pl.String(),
    "source_file": pl.String(),
    "line": pl.Int64(),
    "timestamp": pl.String(),
    "src_ip": pl.String(),
    "dst_ip": pl.String(),
    "dst_port": pl.Int32(),
    "protocol": pl.String(),
    "extra": pl.Struct({name: pl.String() for name in EXTRA_FIELDS}),
}

#: Schema of a classified frame (one row per classified event).
RESULT_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.UInt32(),
    "cls": pl.String(),
    "confidence": pl.Float64(),
    "rule": pl.String(),
    "field": pl.String(),
    "detail": pl.String(),
}

_RANK = pl.DataFrame(
    {"cls": list(CLASS_ORDER), "rank": list(range(len(CLASS_ORDER)))},
    schema={"cls": pl.String(), "rank": pl.Int32()},
)


def scan(paths: Path | Sequence[Path]) -> pl.DataFrame:
    """The columns classification needs from events files, one row per event, with ``row`` numbered
    exactly as :func:`ppcti.analysis.load.load` numbers them (same files, same order)."""
    files = resolve_inputs(paths)
    frame = pl.concat([scan_file(f, SCAN_SCHEMA) for f in files], how="vertical").with_row_index("row")
    frame = frame.with_columns(
        holder=pl.col("holder").fill_null("unknown"),
        format=pl.col("format").fill_null("unknown"),
        t=pl.col("timestamp").str.strptime(pl.Datetime("us", "UTC"), _TS_FORMAT, strict=False).dt.epoch("us"),
    ).drop("timestamp")
    return frame.unnest("extra").collect().rechunk()


def from_loaded(events: pl.DataFrame) -> pl.DataFrame:
    """The classification frame from :func:`ppcti.analysis.load.load`'s ``events`` (which keeps the
    ``extra`` fields classification needs as ``x_<name>`` categoricals), in the shape :func:`scan`
    gives: no second pass over the files. Detectors accept string or categorical columns."""
    base = ["row", "holder", "format", "source_file", "line", "t", "src_ip", "dst_ip", "dst_port", "protocol"]
    fields = [pl.col(f"x_{n}").alias(n) for n in ATTACK_EXTRA_FIELDS]  # categoricals, see load
    return events.select(*base, "sender", "verdict", *fields, "attacker", "attacker_kind", "attacker_private")


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=RESULT_SCHEMA)


Verdict = tuple[str, float, str, str] | None


def _by_distinct(
    events: pl.DataFrame, keys: list[str], fn: Callable[..., Verdict], field_name: str | pl.Expr
) -> pl.DataFrame:
    """Apply ``fn`` (returning ``(cls, confidence, rule, detail)`` or ``None``) once per distinct key."""
    present = events.select("row", *keys).filter(pl.any_horizontal([pl.col(k).is_not_null() for k in keys]))
    if present.is_empty():
        return _empty()
    # one 64-bit hash per row: the distinct step and the join back work on integers, not strings
    present = present.with_columns(_k=pl.struct(keys).hash(seed=0x51C))
    distinct = present.group_by("_k").agg(pl.col(k).first() for k in keys)
    results = [fn(*values) for values in distinct.select(keys).iter_rows()]
    table = (
        distinct.select("_k")
        .with_columns(
            cls=pl.Series([r[0] if r else None for r in results], dtype=pl.String()),
            confidence=pl.Series([r[1] if r else None for r in results], dtype=pl.Float64()),
            rule=pl.Series([r[2] if r else None for r in results], dtype=pl.String()),
            detail=pl.Series([r[3] if r else None for r in results], dtype=pl.String()),
        )
        .filter(pl.col("cls").is_not_null())
    )
    if table.is_empty():
        return _empty()
    field_expr = pl.lit(field_name) if isinstance(field_name, str) else field_name
    return (
        present.select("row", "_k")
        .join(table, on="_k", how="inner")
        .select("row", "cls", "confidence", "rule", field_expr.alias("field"), "detail")
        .cast(RESULT_SCHEMA)
    )


def _signature(events: pl.DataFrame) -> pl.DataFrame:
    def fn(signature: str | None, category: str | None) -> tuple[str, float, str, str] | None:
        verdict = classify_signature(signature, category)
        if verdict is None:
            return None
        return verdict.cls, verdict.confidence, verdict.rule, "ids alert"

    return _by_distinct(events, ["signature", "category"], fn, "extra.signature")


def _payload(events: pl.DataFrame) -> pl.DataFrame:
    out = []
    for name in HTTP_FIELDS:
        if events.get_column(name).null_count() == events.height:
            continue

        def fn(value: str | None) -> tuple[str, float, str, str] | None:
            found = detect(value) if value else None
            return None if found is None else (found.cls, found.confidence, found.rule, found.detail)

        out.append(_by_distinct(events, [name], fn, f"extra.{name}"))
    return pl.concat(out) if out else _empty()


_DROP = r"(?i)drop|reject|deny|block|refuse"


def _firewall(events: pl.DataFrame, options: AttackOptions) -> pl.DataFrame:
    """Blocked inbound entries are probes: someone knocked on a closed door (low confidence)."""

    def text(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.String)

    dropped = text("chain").str.contains(_DROP).fill_null(False) | text("prefix").str.contains(
        _DROP
    ).fill_null(False)
    action_blocked = text("action").str.contains(_DROP).fill_null(False) & pl.col("signature").is_null()
    hit = (
        events.lazy()
        .select("row", "src_ip", "chain", "prefix", "action", "signature")
        .filter((dropped | action_blocked) & pl.col("src_ip").is_not_null())
    )
    return (
        hit.select(
            "row",
            cls=pl.lit("probe"),
            confidence=pl.lit(options.probe_confidence),
            rule=pl.lit("firewall-drop"),
            field=pl.when(dropped).then(pl.lit("extra.chain")).otherwise(pl.lit("extra.action")),
            detail=pl.lit("blocked inbound entry"),
        )
        .collect()
        .cast(RESULT_SCHEMA)
    )


_PHISH_VERDICT = r"(?i)phish|fraud|scam|impersonat|bec\b|credential"
_MALWARE_VERDICT = r"(?i)malware|virus|infected|trojan|ransom|malicious attachment|macro"
_SPAM_VERDICT = r"(?i)spam|bulk|junk|graymail|greymail"
_PHISH_SUBJECT = (
    r"(?i)verify your|password|account (is )?(suspended|locked|disabled)|unusual sign|invoice|payment|"
    r"urgent|wire transfer|gift card|confirm your|security alert|update your|docusign|shared a document|"
    r"voicemail|delivery (failed|notification)|your mailbox|quota"
)


def _email(events: pl.DataFrame, options: AttackOptions) -> pl.DataFrame:
    mail = (
        events.select("row", "format", "verdict", "subject")
        .filter(pl.col("format") == "email-csv")
        .with_columns(pl.col("verdict").cast(pl.String), pl.col("subject").cast(pl.String))
    )
    if mail.is_empty():
        return _empty()
    verdict = pl.col("verdict").fill_null("")
    cls = (
        pl.when(verdict.str.contains(_MALWARE_VERDICT))
        .then(pl.lit("malware-email"))
        .when(verdict.str.contains(_PHISH_VERDICT))
        .then(pl.lit("phishing"))
        .when(verdict.str.contains(_SPAM_VERDICT))
        .then(pl.lit("spam"))
        .when(pl.col("subject").str.contains(_PHISH_SUBJECT).fill_null(False))
        .then(pl.lit("phishing"))
    )
    by_verdict = verdict.str.contains(f"{_MALWARE_VERDICT}|{_PHISH_VERDICT}|{_SPAM_VERDICT}")
    return (
        mail.select(
            "row",
            cls=cls,
            confidence=pl.when(by_verdict).then(pl.lit(0.9)).otherwise(pl.lit(options.subject_confidence)),
            rule=pl.when(by_verdict).then(pl.lit("email-verdict")).otherwise(pl.lit("email-subject")),
            field=pl.when(by_verdict).then(pl.lit("extra.verdict")).otherwise(pl.lit("extra.subject")),
            detail=pl.when(by_verdict).then(pl.lit("export verdict")).otherwise(pl.lit("lure wording")),
        )
        .filter(pl.col("cls").is_not_null())
        .cast(RESULT_SCHEMA)
    )


def classify(
    events: pl.DataFrame,
    options: AttackOptions = AttackOptions(),
    *,
    payloads: bool = True,
    floods: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per classified event of ``events`` (a frame from :func:`scan`):
    ``row, cls, confidence, rule, field, detail, classes`` (every class found, most specific first).

    ``payloads=False`` runs the rule paths alone (signatures, firewall, e-mail, windows). ``floods``:
    see :func:`~.behaviour.behaviour`.
    """
    found = pl.concat(
        [
            _signature(events),
            _payload(events) if payloads else _empty(),
            _firewall(events, options),
            _email(events, options),
            behaviour(events, options, floods).cast(RESULT_SCHEMA),
        ]
    )
    if found.is_empty():
        return found.with_columns(classes=pl.lit(None, dtype=pl.List(pl.String())))
    # one integer sort key: row, then class rank, then confidence (higher first)
    rank = pl.col("cls").replace_strict(_RANK["cls"], _RANK["rank"], default=len(CLASS_ORDER))
    order = (
        pl.col("row").cast(pl.UInt64) * 65536
        + rank.cast(pl.UInt64) * 256
        + (255 - (pl.col("confidence") * 200).round().clip(0, 255)).cast(pl.UInt64)
    )
    ranked = found.with_columns(_o=order).sort("_o").drop("_o")
    row = pl.col("row")
    first = ranked.filter((row != row.shift(1)).fill_null(True))
    # most events have one verdict; only those with several need the list built by a group-by
    several = ranked.filter(((row == row.shift(1)) | (row == row.shift(-1))).fill_null(False))
    classes = several.group_by("row", maintain_order=True).agg(
        pl.col("cls").unique(maintain_order=True).alias("classes")
    )
    return first.join(classes, on="row", how="left", maintain_order="left").with_columns(
        classes=pl.coalesce("classes", pl.concat_list("cls"))
    )


def techniques_frame() -> pl.DataFrame:
    """Class → ATT&CK technique ids/names and CAPEC ids, to join onto classified events."""
    rows = [
        {
            "cls": c.name,
            "label": c.label,
            "technique_ids": [t.id for t in c.techniques],
            "technique_names": [t.name for t in c.techniques],
            "capec": [cid for cid, _ in c.capec],
        }
        for c in CLASSES.values()
    ]
    return pl.DataFrame(
        rows,
        schema={
            "cls": pl.String(),
            "label": pl.String(),
            "technique_ids": pl.List(pl.String()),
            "technique_names": pl.List(pl.String()),
            "capec": pl.List(pl.String()),
        },
    )
