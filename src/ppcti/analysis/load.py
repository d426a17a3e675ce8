"""From ``events.jsonl`` files to the two frames every analysis works on.

* ``events``: one row per attack entry, with its attacker (``src_ip``, or the sender for e-mail) and a
  parsed timestamp in integer microseconds (``t``).
* ``hits``: one row per (entry, target): the destination and NAT addresses of network entries (NAT only
  when it differs from the destination) and the recipients of e-mail entries, each with its service
  (``TCP/22``, ``ICMP``, ``EMAIL``) and whether it is the holder's private infrastructure. The entry's
  file, line and protocol (:data:`~ppcti.analysis.common.ENTRY_FIELDS`) stay in ``events``, found by
  ``row`` for the hits that are output; a partitioned run's files of hits carry them (see ``spill``).

Files are scanned lazily with only the columns the analysis needs, so ``subject`` and the rest of
``extra`` are never materialised. E-mail entries whose verdict says "clean", and the holder's own
hosts going out to the Internet, are not attacks: they are dropped here (and counted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ppcti.analysis import _load_native
from ppcti.analysis.attack_fields import ATTACK_EXTRA_FIELDS
from ppcti.analysis.netclass import classify
from ppcti.analysis.options import AnalysisOptions
from ppcti.errors import FormatError, InputRefused

EMAIL_FORMAT = "email-csv"
IS_MAIL = pl.col("format") == EMAIL_FORMAT
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"

SCAN_SCHEMA: dict[str, pl.DataType] = {
    "holder": pl.String(),
    "format": pl.String(),
    "source_file": pl.String(),
    "line": pl.Int64(),
    "timestamp": pl.String(),
    "src_ip": pl.String(),
    "dst_ip": pl.String(),
    "dst_port": pl.Int32(),
    "nat_ip": pl.String(),
    "protocol": pl.String(),
    "emails": pl.List(pl.String()),
    # the attack fields too: read in this one pass instead of parsing the events again for the classifier
    "extra": pl.Struct(
        {"sender": pl.String(), "verdict": pl.String(), **{n: pl.String() for n in ATTACK_EXTRA_FIELDS}}
    ),
}


@dataclass(slots=True)
class Loaded:
    """The materialised frames plus what was learnt while building them."""

    events: pl.DataFrame
    hits: pl.DataFrame
    internal_domains: dict[str, list[str]]
    benign_email_entries: int
    outbound_entries: int
    no_timestamp: int
    inputs: list[str]


def resolve_inputs(paths: Path | Sequence[Path]) -> list[Path]:
    """Event files from files or run folders (a folder holding ``events.jsonl`` or ``events.parquet``)."""
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    if not items:
        raise InputRefused("no events file given")
    out: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            found = [item / n for n in ("events.jsonl", "events.parquet") if (item / n).is_file()]
            if not found:
                raise InputRefused("folder has no events.jsonl or events.parquet", file=str(item))
            out.append(found[0])
        elif item.is_file():
            out.append(item)
        else:
            raise InputRefused("no such file or folder", file=str(item))
    return out


def scan_file(path: Path, schema: Mapping[str, pl.DataType] = SCAN_SCHEMA) -> pl.LazyFrame:
    """One events file (``events.jsonl`` or Parquet) with the columns of ``schema``, in its types."""
    if path.suffix == ".parquet":
        frame = pl.scan_parquet(path)
        found = frame.collect_schema()
        return frame.select([_as_scanned(n, t, found.get(n)) for n, t in schema.items()])
    return pl.scan_ndjson(path, schema=dict(schema))


def _as_scanned(name: str, target: pl.DataType, found: pl.DataType | None) -> pl.Expr:
    """Column ``name`` of a Parquet input (of type ``found``, None when absent) in type ``target``. A
    struct such as ``extra`` is rebuilt field by field: a file holds only the fields its events had,
    and a cast between structs of other fields is refused by Polars from 2.2 on (it matched them by
    name before)."""
    if found is None:
        return pl.lit(None, dtype=target).alias(name)
    if isinstance(target, pl.Struct) and isinstance(found, pl.Struct):
        present = {f.name for f in found.fields}
        return pl.struct(
            [
                pl.col(name).struct.field(f.name).cast(f.dtype)
                if f.name in present
                else pl.lit(None, dtype=f.dtype).alias(f.name)
                for f in target.fields
            ]
        ).alias(name)
    return pl.col(name).cast(target)


def _epoch_us(timestamp: pl.Expr) -> pl.Expr:
    return timestamp.str.strptime(pl.Datetime("us", "UTC"), _TS_FORMAT, strict=False).dt.epoch("us")


def _cleaned(text: pl.Expr) -> pl.Expr:
    return text.str.strip_chars().str.to_lowercase()


def typed(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Raw columns as the analysis reads them: ``t`` (µs since epoch, null if unparsable), the sender
    and verdict, and the attack fields of ``extra``."""
    return frame.with_columns(
        holder=pl.col("holder").fill_null("unknown"),
        format=pl.col("format").fill_null("unknown"),
        t=_epoch_us(pl.col("timestamp")),
        sender=_cleaned(pl.col("extra").struct.field("sender")),
        verdict=_cleaned(pl.col("extra").struct.field("verdict")),
        # for attack classification, as categoricals: 4 bytes a row instead of a 16-byte string view
        **{f"x_{n}": pl.col("extra").struct.field(n).cast(pl.Categorical) for n in ATTACK_EXTRA_FIELDS},
    ).drop("extra", "timestamp")


#: The service text of a row (protocol and port) as the compiled reader writes it; see :func:`_service`.
NATIVE_SERVICE = "_service"
#: The fields of ``extra`` the compiled reader hands over as columns.
NATIVE_FIELDS = ("sender", "verdict", *ATTACK_EXTRA_FIELDS)
TYPED_COLUMNS = typed(pl.LazyFrame(schema=SCAN_SCHEMA)).collect_schema().names()


def typed_native(frame: pl.DataFrame) -> pl.DataFrame:
    """The columns of the compiled reader (:mod:`ppcti.analysis._load_native`) as :func:`typed` makes
    them: it has parsed the plain timestamps (``t``), hands the others over as text (``_ts``), and
    leaves out the fields of ``extra`` that are null in every line. Its ``_service`` (each row's
    ``TCP/22`` as :func:`_service` writes it, built while the line is read) is kept for :func:`build`."""

    def field(name: str) -> pl.Expr:
        return pl.col(name) if name in frame.columns else pl.lit(None, pl.String)

    # eager: the lazy engine would cut the reader's few chunks into ~100k-row morsels, which a
    # rechunk then copies back together
    return frame.with_columns(
        holder=pl.col("holder").fill_null("unknown"),
        format=pl.col("format").fill_null("unknown"),
        t=pl.coalesce("t", _epoch_us(pl.col("_ts"))),
        sender=_cleaned(field("sender")),
        verdict=_cleaned(field("verdict")),
        **{f"x_{n}": field(n).cast(pl.Categorical) for n in ATTACK_EXTRA_FIELDS},
    ).select(*TYPED_COLUMNS, *[c for c in (NATIVE_SERVICE,) if c in frame.columns])


def scan_events(files: Sequence[Path]) -> pl.LazyFrame:
    """All files as one lazy frame with typed columns (see :func:`typed`)."""
    return typed(pl.concat([scan_file(f) for f in files], how="vertical"))


def read_events(files: Sequence[Path]) -> pl.DataFrame:
    """All files as one frame with typed columns: by the compiled reader when it takes every file,
    otherwise by Polars (the reference, :func:`scan_events`)."""
    frames = []
    for f in files:
        frame = _load_native.read_file(f, NATIVE_FIELDS)
        if frame is None:
            # Polars' reader yields one chunk per block (thousands), too many for build's gather
            return _collect(scan_events(files), files).rechunk()
        frames.append(frame)
    # files may leave out different fields of extra (see typed_native)
    return typed_native(pl.concat(frames, how="diagonal") if len(frames) > 1 else frames[0])


#: what Polars raises for an input that is not an events file (a value or a column of another type)
_REFUSED = (pl.exceptions.ComputeError, pl.exceptions.SchemaError, pl.exceptions.InvalidOperationError)


def _collect(frame: pl.LazyFrame, files: Sequence[Path]) -> pl.DataFrame:
    try:
        return frame.collect()
    except _REFUSED as exc:
        # Polars names neither file nor line; say which inputs were read, never the offending value.
        names = ", ".join(str(f) for f in files)
        raise FormatError(
            f"events file is not valid events.jsonl ({type(exc).__name__})", file=names
        ) from None


def _recipients(raw: pl.DataFrame) -> pl.DataFrame:
    """(row, holder, recipient, domain) for every address of an e-mail entry other than its sender."""
    # lazily, so that only the four columns are copied for the rows kept
    mail = raw.lazy().filter(IS_MAIL).select("row", "holder", "sender", "emails").collect()
    rec = (
        mail.explode("emails")
        .rename({"emails": "recipient"})
        .with_columns(pl.col("recipient").str.strip_chars().str.to_lowercase())
        .filter(pl.col("recipient").is_not_null() & (pl.col("recipient") != pl.col("sender").fill_null("")))
        .unique(["row", "recipient"])
    )
    return rec.with_columns(domain=pl.col("recipient").str.extract(r"@([^@]+)$", 1)).drop("sender")


@dataclass(slots=True)
class DomainCounts:
    """What internal-domain detection needs, as sums: the rows of several reads of the same inputs
    add up (each read counts disjoint rows), so a partitioned load gets the same domains."""

    holders: pl.DataFrame  # holder
    mail: pl.DataFrame  # holder, entries
    domains: pl.DataFrame  # holder, domain, n (entries with a recipient in the domain)

    @classmethod
    def of(cls, rec: pl.DataFrame, raw: pl.DataFrame) -> DomainCounts:
        return cls(
            holders=raw.select(pl.col("holder").unique()),
            mail=raw.lazy().filter(IS_MAIL).group_by("holder").len("entries").collect(),
            domains=rec.filter(pl.col("domain").is_not_null())
            .unique(["row", "domain"])
            .group_by("holder", "domain")
            .len("n"),
        )

    @classmethod
    def merged(cls, parts: Sequence[DomainCounts]) -> DomainCounts:
        if not parts:
            return cls(
                holders=pl.DataFrame(schema={"holder": pl.String()}),
                mail=pl.DataFrame(schema={"holder": pl.String(), "entries": pl.UInt32()}),
                domains=pl.DataFrame(schema={"holder": pl.String(), "domain": pl.String(), "n": pl.UInt32()}),
            )
        return cls(
            holders=pl.concat([p.holders for p in parts]).unique(),
            mail=pl.concat([p.mail for p in parts]).group_by("holder").agg(pl.col("entries").sum()),
            domains=pl.concat([p.domains for p in parts]).group_by("holder", "domain").agg(pl.col("n").sum()),
        )


def internal_domains(counts: DomainCounts, options: AnalysisOptions) -> dict[str, list[str]]:
    """Per holder, the configured domains, or those receiving at least the configured share of its mail."""
    holders = counts.holders.get_column("holder").unique().sort().to_list()
    if options.internal_email_domains:
        configured = sorted({d.strip().lower().lstrip("@") for d in options.internal_email_domains})
        return dict.fromkeys(holders, configured)
    share = (
        counts.domains.join(counts.mail, on="holder")
        .filter(pl.col("n") >= pl.col("entries") * options.internal_domain_min_share)
        .group_by("holder")
        .agg(pl.col("domain").sort())
    )
    found = {r["holder"]: r["domain"] for r in share.iter_rows(named=True)}
    return {h: found.get(h, []) for h in holders}


def _is_internal(domain: pl.Expr, domains: dict[str, list[str]]) -> pl.Expr:
    """Domain equal to, or a subdomain of, one of the holder's internal domains."""
    cond = pl.lit(False)
    for holder, names in domains.items():
        for name in names:
            cond = cond | (
                (pl.col("holder") == holder) & ((domain == name) | domain.str.ends_with("." + name))
            )
    return cond


def _ids(column: str) -> pl.Expr:
    """A 64-bit hash of a string column as its id: the heavy group-bys and sorts then work on integers.

    Hashing is ~200x faster here than building a categorical dictionary. Two distinct values share an
    id with probability about n²/2⁶⁵ (3e-8 for a million distinct addresses); outputs always carry the
    strings themselves. Null stays null.
    """
    return pl.when(pl.col(column).is_not_null()).then(pl.col(column).hash(seed=0x70C71))


def _attacker_columns() -> list[pl.Expr]:
    """The attacker of an entry: the source address, or for e-mail the sender (either as fallback).

    One coalesce over three candidates (the sender of e-mail entries first) instead of two coalesces
    joined by a branch per row: the same values, less than half the CPU over millions of rows."""
    has_ip, has_sender = pl.col("src_ip").is_not_null(), pl.col("sender").is_not_null()
    return [
        pl.coalesce(pl.when(IS_MAIL).then(pl.col("sender")), "src_ip", "sender").alias("attacker"),
        pl.when(IS_MAIL & has_sender)
        .then(pl.lit("email"))
        .when(has_ip)
        .then(pl.lit("ip"))
        .when(has_sender)
        .then(pl.lit("email"))
        .alias("attacker_kind"),
        _ids("holder").alias("hid"),
    ]


def _service(options: AnalysisOptions) -> pl.Expr:
    """``TCP/22``; the protocol alone without a port, or always with ``botnet_match="protocol"``.

    The compiled reader writes the first form per row as it reads the line (``_service``): built here
    it costs a cast and two concatenations of every hit."""
    protocol = pl.coalesce("protocol", pl.lit("ANY"))
    if options.botnet_match == "protocol":
        return protocol
    with_port = protocol + pl.lit("/") + pl.col("dst_port").cast(pl.String)
    return pl.when(pl.col("dst_port").is_not_null()).then(with_port).otherwise(protocol)


@dataclass(slots=True)
class Built:
    """``events`` and ``hits`` of some raw rows, before the internal e-mail domains are known: e-mail
    targets carry their ``domain`` and are marked by :func:`with_internal` once the domains are."""

    events: pl.DataFrame
    hits: pl.DataFrame
    domain_counts: DomainCounts
    benign: int
    outbound: int


def build(raw: pl.DataFrame, options: AnalysisOptions) -> Built:
    """``events`` and ``hits`` of raw rows (a whole input, or any slice of it with its ``row``)."""
    # Attack fields null in every row (most inputs have few of them) stay out of the row filters below,
    # which would copy each, and come back at the end.
    order = raw.columns
    absent = [c for c in order if c.startswith("x_") and raw.get_column(c).null_count() == raw.height]
    raw = raw.drop(absent)
    rec = _recipients(raw)
    counts = DomainCounts.of(rec, raw)
    raw = raw.drop("emails")  # read through ``rec`` from here on: not copied with the rows kept

    benign = pl.col("verdict").is_in(list(options.benign_verdicts)).fill_null(False)
    dropped = raw.select(IS_MAIL & benign).to_series()
    n_benign = dropped.sum()
    # One copy of the rows kept, into one chunk: a gather from the reader's chunks. A rechunk before a
    # filter copied every column twice; on 5 M events this holds 1 GiB less at the peak of the load.
    events = raw[(~dropped).arg_true()] if n_benign else raw.rechunk()
    events = events.with_columns(*_attacker_columns()).with_columns(aid=_ids("attacker"))
    native_service = NATIVE_SERVICE in raw.columns
    # Every row needed is in ``events`` now; when the caller passed its only reference (see
    # :func:`load`), this frees the raw columns before the hits are built (the peak of the load).
    del raw

    # Classify each distinct address once; the private ones (few) label the rows through their ids.
    addresses = [("_sid", "src_ip"), ("_did", "dst_ip"), ("_nid", "nat_ip")]
    events = events.with_columns(*[_ids(col).alias(name) for name, col in addresses])
    # each column's first occurrences first (a pass over one integer column) before the strings move
    firsts = [
        events.lazy()
        .filter(pl.col(name).is_first_distinct() & pl.col(name).is_not_null())
        .select(id=name, address=col)
        for name, col in addresses
    ]
    distinct = pl.concat(firsts).unique("id").collect()
    private = classify(distinct.get_column("address"), distinct=True).filter(pl.col("range").is_not_null())
    ids, labels = private.select(_ids("address")).to_series(), private.get_column("range")

    def label(name: str) -> pl.Expr:
        return pl.col(name).replace_strict(ids, labels, default=None, return_dtype=pl.String)

    events = events.with_columns(
        src_private=pl.col("_sid").is_in(ids.implode()).fill_null(False),
        _drange=label("_did"),
        _nrange=label("_nid"),
    ).with_columns(attacker_private=(pl.col("attacker_kind") == "ip") & pl.col("src_private"))
    # Our own hosts talking to the Internet are users, not attackers (see AnalysisOptions).
    outbound = (
        ~IS_MAIL
        & pl.col("src_private")
        & pl.col("dst_ip").is_not_null()
        & pl.col("_drange").is_null()
        & pl.col("_nrange").is_null()
    )
    n_outbound = events.filter(outbound).height
    if not options.include_outbound and n_outbound:
        events = events.filter(~outbound)

    # not the ENTRY_FIELDS: see the module docstring
    base = ["row", "holder", "hid", "t", "attacker", "aid", "attacker_kind", "dst_port"]
    if native_service and options.botnet_match != "protocol":
        service: pl.Expr = pl.col(NATIVE_SERVICE)
    else:
        service = _service(options)
    net = events.lazy().filter(~IS_MAIL)
    dst = net.filter(pl.col("dst_ip").is_not_null()).select(
        *base, target="dst_ip", tid="_did", range="_drange", service=service, nat=pl.lit(False)
    )
    via_nat = net.filter(
        pl.col("nat_ip").is_not_null() & (pl.col("nat_ip") != pl.col("dst_ip").fill_null(""))
    )
    via_nat = via_nat.select(
        *base, target="nat_ip", tid="_nid", range="_nrange", service=service, nat=pl.lit(True)
    )
    ip_hits = pl.concat([dst, via_nat]).with_columns(
        target_kind=pl.lit("ip"), private=pl.col("range").is_not_null(), domain=pl.lit(None, pl.String)
    )
    mail_hits = (
        events.lazy()
        .filter(IS_MAIL)
        .select(base)
        .join(rec.lazy().select("row", target="recipient", domain="domain"), on="row")
        .with_columns(
            tid=_ids("target"),
            range=pl.lit(None, pl.String),
            service=pl.lit("EMAIL"),
            target_kind=pl.lit("email"),
            private=pl.lit(False),
            nat=pl.lit(False),
        )
    )
    columns = ip_hits.collect_schema().names()
    hits = pl.concat([ip_hits, mail_hits.select(columns)]).with_columns(sid=_ids("service")).collect()
    events = events.drop("_sid", "_did", "_nid", "_drange", "_nrange", NATIVE_SERVICE, strict=False)
    if absent:
        kept = set(events.columns)
        names = [c for c in order if c in kept or c in absent] + [c for c in events.columns if c not in order]
        events = events.with_columns(
            pl.lit(None, pl.String).cast(pl.Categorical).alias(c) for c in absent
        ).select(names)
    return Built(
        events=events,
        hits=hits,
        domain_counts=counts,
        benign=n_benign,
        outbound=n_outbound if not options.include_outbound else 0,
    )


def with_internal(hits: pl.DataFrame, domains: dict[str, list[str]]) -> pl.DataFrame:
    """Mark the e-mail targets in the holders' internal domains as private, and drop ``domain``.

    Only rows with a domain (e-mail targets, a few percent) are tested; the marks are then written
    into copies of ``range`` and ``private`` at their positions, instead of testing every hit.
    """
    # Lazily: an eager filter or drop of a frame in many chunks (as the hits are built) first copies
    # every column it keeps into one chunk; the caller does that once, for the frame it keeps.
    has_domain = pl.col("domain").is_not_null()
    at = hits.select(pl.arg_where(has_domain)).to_series()
    mail = hits.lazy().select("holder", "domain").filter(has_domain).collect()  # in the order of ``at``
    internal = _is_internal(pl.col("domain"), domains)  # only e-mail targets have a domain
    marked = at.filter(mail.select(internal.fill_null(False)).to_series())
    if not marked.is_empty():
        hits = hits.with_columns(
            hits.get_column("range").scatter(marked, "internal-email"),
            hits.get_column("private").scatter(marked, True),
        )
    return hits.lazy().drop("domain").collect()


def load(paths: Path | Sequence[Path], options: AnalysisOptions) -> Loaded:
    """Read the inputs once and build ``events`` and ``hits`` (see the module docstring)."""
    files = resolve_inputs(paths)
    # build copies the rows it keeps into one chunk (see there): contiguous columns keep later
    # element-wise look-ups (is_in, replace_strict) from paying a per-chunk set-up per chunk.
    # No name holds the raw frame here, so build frees it as soon as it has taken the rows it needs.
    built = build(read_events(files).with_row_index("row"), options)
    domains = internal_domains(built.domain_counts, options)
    events = built.events
    return Loaded(
        events=events,
        hits=with_internal(built.hits, domains).rechunk(),
        internal_domains=domains,
        benign_email_entries=built.benign,
        outbound_entries=built.outbound,
        no_timestamp=events.get_column("t").null_count(),
        inputs=[str(f) for f in files],
    )
