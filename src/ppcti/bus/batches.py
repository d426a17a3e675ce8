"""Envelopes of a JSON-lines file, a chunk at a time: the batch path of publishing a run's CTI bundles.

A run's ``cti/bundles.jsonl`` becomes one message per line. Per line, publishing must check that the
line is one JSON value (a damaged line stops the run with file and line named instead of reaching every
consumer), derive its content id (BLAKE2b-128 of kind, run, holder and payload) and format its
envelope. Done in Python that costs several times the produce call itself, so it is done a 4 MB chunk at
a time:

- by the compiled step when ``ppcti_native`` is installed (``EnvelopeFrame.chunk``: the JSON check to
  orjson's rules without building objects, four BLAKE2b hashes at a time, the envelopes formatted from
  :func:`~ppcti.bus.envelope.envelope_parts`), with the GIL released and on a worker thread, so chunk
  N+1 is made while the publishing thread produces chunk N;
- by :func:`reference_batch` (``orjson.loads``, ``hashlib``, :func:`~ppcti.bus.envelope.envelope_template`)
  otherwise. The two give the same envelopes, ids and errors (``tests/bus/test_bus_batches_native.py``).

Either way a chunk is checked whole before any of it is handed out, so a bad line never leaves a
half-sent chunk behind it.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ppcti.bus.envelope import envelope_parts, envelope_template, id_prefix, is_json_type
from ppcti.errors import BusError, FormatError
from ppcti.native import native_module

_CHUNK = 4 << 20


@dataclass(frozen=True, slots=True)
class EnvelopeBatch:
    """Ready envelopes of consecutive lines: ``values[i]`` is the envelope whose id is ``ids[i]``.

    ``total`` and ``longest`` (bytes) let the publisher count a batch and check the size limit once.
    """

    ids: list[str]
    values: list[bytes]
    total: int
    longest: int


def jsonl_chunks(path: Path) -> Iterator[tuple[list[int], list[bytes]]]:
    """Non-blank lines of a JSON-lines file, a 4 MB chunk at a time: ``(numbers, lines)``, the 1-based
    line numbers and the stripped lines, each line checked to be JSON before its chunk is handed out.

    Read in chunks split in C rather than line by line: for a million CTI bundles the reading loop is a
    visible share of publishing. Lines are plain ``bytes`` (no per-line wrapper or tuple).
    """
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    number = 0
    rest = b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop() if chunk else b""
            numbers: list[int] = []
            checked: list[bytes] = []
            for raw in lines:
                number += 1
                line = raw.strip()
                if not line:
                    continue
                try:
                    loads(line)  # orjson takes exact bytes only, so check before sending
                except decode_error:
                    raise FormatError("line is not valid JSON", file=str(path), line=number) from None
                numbers.append(number)
                checked.append(line)
            if checked:
                yield numbers, checked
            if not chunk:
                return


def reference_batch(
    lines: list[bytes], *, kind: str, content_type: str, run_id: str, holder: str, first_seq: int
) -> EnvelopeBatch:
    """The envelopes of lines already checked to be JSON, numbered from ``first_seq``, in Python."""
    template, digest = envelope_template(kind, run_id, holder, content_type)
    ids: list[str] = []
    values: list[bytes] = []
    for seq, line in enumerate(lines, start=first_seq):
        h = digest.copy()
        h.update(line)
        env_id = h.hexdigest()
        ids.append(env_id)
        values.append(template % (env_id.encode(), seq, line))
    return EnvelopeBatch(ids, values, sum(map(len, values)), max(map(len, values), default=0))


def envelope_batches(
    path: Path, *, kind: str, content_type: str, run_id: str, holder: str, first_seq: int = 0
) -> Iterator[EnvelopeBatch]:
    """The envelopes of every non-blank line of ``path``, a chunk at a time, numbered from ``first_seq``.

    Raises :class:`FormatError` naming the file and line of the first line that is not JSON, before
    any envelope of that line's chunk is handed out.
    """
    if not is_json_type(content_type):
        raise BusError(f"a JSON-lines file is published as JSON, not {content_type}")
    module = native_module()
    if module is None:
        seq = first_seq
        for _numbers, lines in jsonl_chunks(path):
            yield reference_batch(
                lines, kind=kind, content_type=content_type, run_id=run_id, holder=holder, first_seq=seq
            )
            seq += len(lines)
        return
    frame = module.EnvelopeFrame(
        *envelope_parts(kind, run_id, holder, content_type), id_prefix(kind, run_id, holder)
    )
    yield from _made_ahead(_native_batches(path, frame, first_seq))


def _native_batches(path: Path, frame: Any, first_seq: int) -> Generator[EnvelopeBatch, None, None]:
    """The compiled step over the file's chunks; line numbering and chunking as :func:`jsonl_chunks`."""
    number, seq, rest = 0, first_seq, b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            data = rest + chunk if rest else chunk
            end = data.rfind(b"\n") + 1 if chunk else len(data)  # whole lines only, but at the end
            newlines, bad, ids, values, total, longest = frame.chunk(data, end, seq)
            if bad is not None:
                raise FormatError("line is not valid JSON", file=str(path), line=number + bad + 1)
            number += newlines
            seq += len(ids)
            rest = data[end:]
            if ids:
                yield EnvelopeBatch(ids, values, total, longest)
            if not chunk:
                return


def _made_ahead(batches: Generator[EnvelopeBatch, None, None]) -> Iterator[EnvelopeBatch]:
    """Hand out each batch while the next one is made on a worker thread.

    The compiled step releases the GIL, so it runs beside the publishing thread's produce calls; an
    error in the next chunk surfaces when that chunk is asked for, after this one was sent, as on the
    reference path.
    """
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="ppcti-envelopes") as pool:
            ahead = pool.submit(next, batches, None)
            while (batch := ahead.result()) is not None:
                ahead = pool.submit(next, batches, None)
                yield batch
    finally:  # after the worker is done with it: closes the file
        batches.close()
