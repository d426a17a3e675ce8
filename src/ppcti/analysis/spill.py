"""Read the inputs once, in slices, into Parquet partitions on disk: what a partitioned analysis reads.

Each slice of raw rows (about :data:`CHUNK_BYTES` of NDJSON, or :data:`CHUNK_ROWS` Parquet rows) goes
through the same :func:`ppcti.analysis.load.build` as a whole input, with its ``row`` numbers counted
from the start of the inputs. The built frames are gathered until :data:`FLUSH_ROWS` events, then
written as one file per partition:

* ``events/<p>/``: events with ``aid % parts == p`` (every attacker's events in one partition);
* ``hits_t/<p>/``: hits with ``tid % parts == p`` (every target's hits in one partition);
* ``hits_a/<p>/``: the same hits again by ``aid % parts`` (sweeps are keyed by attacker).

Internal e-mail domains are known only after the last slice; they are counted as the slices go
(:class:`~ppcti.analysis.load.DomainCounts` adds up) and applied when hits are read back. Memory is one
slice plus one flush, whatever the input size.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ppcti.analysis import _load_native
from ppcti.analysis.common import ENTRY_FIELDS, with_entry_fields
from ppcti.analysis.load import (
    NATIVE_FIELDS,
    SCAN_SCHEMA,
    Built,
    DomainCounts,
    build,
    internal_domains,
    scan_file,
    typed,
    typed_native,
    with_internal,
)
from ppcti.analysis.options import AnalysisOptions
from ppcti.errors import FormatError

CHUNK_BYTES = 64 << 20
CHUNK_ROWS = 500_000
FLUSH_ROWS = 1_000_000
#: NDJSON bytes per event assumed when sizing partitions before reading (bench data: ~230).
BYTES_PER_EVENT = 230


def estimated_rows(files: Sequence[Path]) -> int:
    """Events in the inputs, estimated from NDJSON sizes and Parquet metadata, to size partitions."""
    total = 0
    for f in files:
        if f.suffix == ".parquet":
            total += pl.scan_parquet(f).select(pl.len()).collect().item()
        else:
            total += f.stat().st_size // BYTES_PER_EVENT
    return total


def _ndjson_blocks(path: Path, size: int) -> Iterator[bytes]:
    """Whole lines, about ``size`` bytes at a time."""
    rest = b""
    with path.open("rb") as handle:
        while block := handle.read(size):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                rest = block
                continue
            rest = block[cut:]
            yield block[:cut]
    if rest:
        yield rest


def _format_error(exc: Exception, path: Path) -> FormatError:
    # Polars names neither file nor line; say which input was read, never the offending value.
    return FormatError(f"events file is not valid events.jsonl ({type(exc).__name__})", file=str(path))


def _ndjson_slices(path: Path) -> Iterator[pl.DataFrame]:
    """Typed raw rows of NDJSON blocks: by the compiled reader when it takes the block, else by Polars."""
    for block in _ndjson_blocks(path, CHUNK_BYTES):
        if not block.strip():
            continue
        native = _load_native.read_block(block, NATIVE_FIELDS)
        if native is not None:
            yield typed_native(native)
        else:
            yield typed(pl.read_ndjson(io.BytesIO(block), schema=SCAN_SCHEMA).lazy()).collect()


def raw_slices(files: Sequence[Path]) -> Iterator[pl.DataFrame]:
    """The typed raw rows of the inputs (as :func:`~ppcti.analysis.load.read_events`), a slice at a
    time, each with its ``row`` counted from the start of the inputs."""
    offset = 0
    for path in files:
        if path.suffix == ".parquet":
            frames: Iterator[pl.DataFrame] = (typed(f).collect() for f in _parquet_slices(path))
        else:
            frames = _ndjson_slices(path)
        try:
            for frame in frames:
                raw = frame.with_row_index("row", offset=offset)
                offset += raw.height
                yield raw
        except (pl.exceptions.ComputeError, pl.exceptions.SchemaError) as exc:
            raise _format_error(exc, path) from None


def _parquet_slices(path: Path) -> Iterator[pl.LazyFrame]:
    rows = pl.scan_parquet(path).select(pl.len()).collect().item()
    for start in range(0, rows, CHUNK_ROWS):
        yield scan_file(path).slice(start, CHUNK_ROWS)


@dataclass(slots=True)
class Spill:
    """The partitioned frames of one read of the inputs, and what was counted while writing them."""

    folder: Path
    parts: int
    inputs: list[str]
    rows: int = 0
    benign: int = 0
    outbound: int = 0
    no_timestamp: int = 0
    internal_domains: dict[str, list[str]] = field(default_factory=dict)
    _flushes: int = 0
    _empty: dict[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def written(self) -> bool:
        """Whether anything (if only the empty schemas) has been written yet."""
        return bool(self._empty)

    def _read(self, kind: str, part: int, columns: Sequence[str] | None) -> pl.DataFrame:
        files = sorted((self.folder / kind / str(part)).glob("*.parquet"))
        if not files:
            frame = self._empty[kind]
            return frame.select(columns) if columns else frame
        lazy = pl.scan_parquet(files)
        return (lazy.select(columns) if columns else lazy).collect()

    def events(self, part: int, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """The events of partition ``part`` (by attacker), in row order."""
        return self._read("events", part, columns)

    def hits_by_target(self, part: int, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """The hits of partition ``part`` by target, e-mail targets marked as :func:`load` marks them
        (``columns``: only these, which must include ``target_kind``, ``range``, ``private``, ``domain``)."""
        return with_internal(self._read("hits_t", part, columns), self.internal_domains)

    def hits_by_attacker(self, part: int) -> pl.DataFrame:
        """The hits of partition ``part`` by attacker."""
        return with_internal(self._read("hits_a", part, None), self.internal_domains)

    def _write(self, kind: str, frame: pl.DataFrame, key: pl.Expr) -> None:
        if kind not in self._empty:
            self._empty[kind] = frame.clear()
        split = frame.with_columns(_part=(key % self.parts).fill_null(0).cast(pl.Int64))
        for (part,), piece in split.partition_by("_part", as_dict=True).items():
            folder = self.folder / kind / str(part)
            folder.mkdir(parents=True, exist_ok=True)
            piece.drop("_part").write_parquet(folder / f"{self._flushes:06d}.parquet", compression="lz4")

    def flush(self, built: list[Built]) -> None:
        """Write the frames built since the last flush, one file per partition and kind."""
        events = pl.concat([b.events for b in built])
        self.no_timestamp += events.get_column("t").null_count()
        self._write("events", events, pl.col("aid"))
        # the partitions of hits are read without their events: each hit carries its entry's fields
        hits = with_entry_fields(pl.concat([b.hits for b in built]), events, ENTRY_FIELDS)
        del events
        self._write("hits_t", hits, pl.col("tid"))
        self._write("hits_a", hits, pl.col("aid"))
        self._flushes += 1


def spill(files: Sequence[Path], options: AnalysisOptions, parts: int, folder: Path) -> Spill:
    """Read ``files`` once into ``parts`` partitions under ``folder`` (see the module docstring)."""
    out = Spill(folder=folder, parts=parts, inputs=[str(f) for f in files])
    counts: list[DomainCounts] = []
    pending: list[Built] = []
    waiting = 0
    for raw in raw_slices(files):
        out.rows += raw.height
        built = build(raw, options)
        del raw
        counts.append(built.domain_counts)
        out.benign += built.benign
        out.outbound += built.outbound
        pending.append(built)
        waiting += built.events.height
        if waiting >= FLUSH_ROWS:
            out.flush(pending)
            pending, waiting = [], 0
        merged = DomainCounts.merged(counts)
        counts = [merged]
    if pending or not out.written:
        if not pending:  # no input rows: the schemas come from an empty build
            empty = typed(pl.DataFrame(schema=SCAN_SCHEMA).lazy()).collect().with_row_index("row")
            pending = [build(empty, options)]
        out.flush(pending)
    out.internal_domains = internal_domains(DomainCounts.merged(counts), options)
    return out
