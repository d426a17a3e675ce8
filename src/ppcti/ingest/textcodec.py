"""A codec for files that are UTF-8 except for some lines: each line is decoded on its own.

Exports glued together from several systems, or a log that one writer appended to in latin-1, are
mostly UTF-8 with a few lines in a Windows code page. Decoding such a file wholly as cp1252 garbles every
UTF-8 line; decoding it as UTF-8 with replacement loses the accented letters of the others. This codec
decodes every line (split on LF, the only line break the readers use) as UTF-8 first, then as cp1252,
then as latin-1 (which decodes any byte), so each line comes out as its writer meant it.

It is registered under :data:`NAME` so that every reader that takes a codec name (``open``, the
incremental decoders of the line readers, ``bytes.decode``) applies the same rule without knowing it:
the choice is made once, by :func:`ppcti.ingest.detect.detect_encoding`.

Valid UTF-8 is decoded in one C call per chunk; only a chunk that fails is split into lines. A line with
no LF in sight is buffered up to :data:`_MAX_PENDING` bytes and then decoded as far as it is valid UTF-8
(else as cp1252), so memory stays bounded on a file that is one huge line.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

#: The codec's name, as :attr:`ppcti.ingest.SourceFile.encoding` holds it.
NAME = "utf-8-lines"

_ALIASES = frozenset({NAME, NAME.replace("-", "_")})

#: Bytes buffered waiting for an LF before the partial line is decoded anyway.
_MAX_PENDING = 1024**2


def decode_line(data: bytes) -> tuple[str, bool]:
    """One line (or several valid UTF-8 ones) decoded; the flag says whether a fallback was needed."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), True
    except UnicodeDecodeError:
        return data.decode("latin-1"), True


def _decode_lines(data: bytes) -> tuple[str, int]:
    """``data`` decoded line by line, and how many of its lines needed the fallback."""
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    out: list[str] = []
    fallbacks = 0
    for line in data.split(b"\n"):
        text, fell_back = decode_line(line)
        fallbacks += fell_back
        out.append(text)
    return "\n".join(out), fallbacks


@dataclass(slots=True)
class LineCounts:
    """What a whole-file pass found: whether UTF-8 beyond ASCII was seen (a count of lines or of
    chunks that hold some), and how many lines are not UTF-8."""

    utf8_seen: int = 0
    fallback_lines: int = 0


def count_lines(data: bytes, counts: LineCounts) -> None:
    """Add the lines of ``data`` (complete lines) to ``counts``."""
    if data.isascii():
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        counts.utf8_seen += 1  # at least one line holds UTF-8 beyond ASCII
        return
    for line in data.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            counts.fallback_lines += 1
        else:
            counts.utf8_seen += 1


class IncrementalDecoder(codecs.IncrementalDecoder):
    """Decodes complete lines; keeps the unterminated rest until its LF (or the end) arrives."""

    def __init__(self, errors: str = "strict") -> None:
        super().__init__(errors)
        self._pending = b""

    def decode(self, input: bytes, final: bool = False) -> str:
        data = self._pending + bytes(input)
        if final:
            self._pending = b""
            return _decode_lines(data)[0]
        cut = data.rfind(b"\n") + 1
        if cut == 0 and len(data) > _MAX_PENDING:
            # one huge line: decode the longest valid UTF-8 prefix (never splitting a character)
            try:
                decoder = codecs.getincrementaldecoder("utf-8")("strict")
                text = decoder.decode(data, False)
                self._pending = decoder.getstate()[0]
            except UnicodeDecodeError:
                text, _ = decode_line(data)
                self._pending = b""
            return text
        self._pending = data[cut:]
        return _decode_lines(data[:cut])[0] if cut else ""

    def reset(self) -> None:
        self._pending = b""

    def getstate(self) -> tuple[bytes, int]:
        return self._pending, 0

    def setstate(self, state: tuple[bytes, int]) -> None:
        self._pending = state[0]


def _decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
    return _decode_lines(bytes(data))[0], len(data)


def _encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
    return codecs.utf_8_encode(text, errors)


def _search(name: str) -> codecs.CodecInfo | None:
    if name.lower() not in _ALIASES:
        return None
    return codecs.CodecInfo(
        name=NAME,
        encode=_encode,
        decode=_decode,
        incrementalencoder=codecs.getincrementalencoder("utf-8"),
        incrementaldecoder=IncrementalDecoder,
    )


_registered = False


def register() -> None:
    """Make :data:`NAME` known to :func:`codecs.lookup` (once per process)."""
    global _registered
    if not _registered:
        codecs.register(_search)
        _registered = True


register()
