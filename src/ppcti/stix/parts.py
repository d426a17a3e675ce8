"""The JSON text of the per-entry objects of a bundle, and the rules that name an entry's attacker.

:class:`ppcti.stix.build.BundleBuilder` writes each bundle as text: the repeated objects (marking,
identity, addresses) are serialised once and reused, and the per-entry ones (network-traffic,
email-message, indicator) are filled into templates here. Every template writes exactly what
``orjson.dumps`` writes for the dict the object used to be (key order as STIX documents use, compact,
non-ASCII unescaped), so ids and bytes are unchanged; ``tests/stix/test_stix_differential.py`` holds
them to that against the frozen dict builder. Only values that need no JSON escaping are spliced in
unquoted: ids (``type--uuid``), normalised timestamps, ``int`` ports and the fixed protocol names; any
free text (holder names, subjects, signatures, patterns) goes through orjson.
"""

from __future__ import annotations

import re
from hashlib import sha1
from typing import Any

import orjson

from ppcti.stix.ids import PPCTI_NAMESPACE_BYTES, VARIANT_DIGIT, sco_uuid

_DUMPS = orjson.dumps

#: E-mail verdict words → indicator type. A benign verdict yields no indicator: an indicator asserts
#: suspicion, and would turn an ordinary correspondent's address into shared threat intelligence.
_VERDICT_WORDS: tuple[tuple[tuple[str, ...], str | None], ...] = (
    (("clean", "benign", "legit", "allowlist", "whitelist"), None),
    (("phish", "malware", "virus", "malicious", "spoof", "fraud", "bec", "impersonat"), "malicious-activity"),
    (("spam", "bulk", "suspicious", "quarantin", "junk"), "anomalous-activity"),
)
#: The name an indicator gets for its attacker, by observable type.
PATTERN_LABEL = {"ipv4-addr": "IPv4 address", "ipv6-addr": "IPv6 address", "email-addr": "e-mail sender"}


def text(value: Any) -> str:
    """``value`` as JSON text, exactly as orjson writes it inside a larger document."""
    return _DUMPS(value).decode()


def verdict_types(verdict: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Indicator types an e-mail verdict asks for: ``()`` for a benign one, ``default`` when unknown."""
    lowered = verdict.lower()
    for words, kind in _VERDICT_WORDS:
        if any(w in lowered for w in words):
            return (kind,) if kind else ()
    return default


def stix_pattern(sco_type: str, value: str) -> str:
    """``[ipv4-addr:value = '203.0.113.7']``, with quotes and backslashes escaped as STIX patterns need."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"[{sco_type}:value = '{escaped}']"


_SINGLE_VALUE = re.compile(r"^\[([a-z0-9-]+):value = '((?:[^'\\]|\\.)*)'\]$")


def pattern_value(pattern: str) -> tuple[str, str] | None:
    """``(sco_type, value)`` of a pattern :func:`stix_pattern` writes, or ``None`` for any other pattern.

    The inverse by string match, not a pattern parser: readers of ppcti's own indicators (enrichment,
    the assessment) read one per attacker, and ``stix2-patterns`` takes about 0.35 ms a pattern (100x).
    """
    found = _SINGLE_VALUE.match(pattern)
    if found is None:
        return None
    return found.group(1), re.sub(r"\\(.)", r"\1", found.group(2))


def traffic(
    src_id: str | None,
    dst_id: str | None,
    src_port: int | None,
    dst_port: int | None,
    protocols: list[str],
    ts: str | None,
    marks: str,
) -> tuple[str, str]:
    """``(id, JSON)`` of a network-traffic object with any of its optional properties missing.

    The builder writes the usual shape (both ends, both ports, a time) itself; this is the general
    form, with the ID contributing properties in canonical (sorted) key order as RFC 8785 asks.
    """
    contrib: dict[str, Any] = {}
    if dst_port is not None:
        contrib["dst_port"] = dst_port
    if dst_id is not None:
        contrib["dst_ref"] = dst_id
    contrib["protocols"] = protocols
    if src_port is not None:
        contrib["src_port"] = src_port
    if src_id is not None:
        contrib["src_ref"] = src_id
    if ts is not None:
        contrib["start"] = ts
    oid = f"network-traffic--{sco_uuid(_DUMPS(contrib))}"
    out = ['{"type":"network-traffic","spec_version":"2.1","id":"', oid, '"']
    if ts is not None:
        out.append(f',"start":"{ts}"')
    if src_id is not None:
        out.append(f',"src_ref":"{src_id}"')
    if dst_id is not None:
        out.append(f',"dst_ref":"{dst_id}"')
    if src_port is not None:
        out.append(f',"src_port":{text(src_port)}')
    if dst_port is not None:
        out.append(f',"dst_port":{text(dst_port)}')
    out.append(f',"protocols":{text(protocols)},"object_marking_refs":{marks}}}')
    return oid, "".join(out)


def message(
    sender_id: str | None, recipient_ids: list[str], subject: str | None, ts: str | None, marks: str
) -> tuple[str, str] | None:
    """``(id, JSON)`` of the email-message of an e-mail entry, or None without a sender or subject (no
    ID contributing property: the spec would demand a random id)."""
    if sender_id is None and subject is None:
        return None
    subject_json = None if subject is None else text(subject)
    if sender_id is None:
        contrib = f'{{"subject":{subject_json}}}'
    elif subject_json is None:
        contrib = f'{{"from_ref":"{sender_id}"}}'
    else:
        contrib = f'{{"from_ref":"{sender_id}","subject":{subject_json}}}'
    oid = f"email-message--{sco_uuid(contrib.encode())}"
    if ts is not None and sender_id is not None and recipient_ids and subject_json is not None:
        # the usual e-mail entry, written out
        to_refs = '","'.join(recipient_ids)
        return oid, (
            f'{{"type":"email-message","spec_version":"2.1","id":"{oid}","is_multipart":false,"date":"{ts}"'
            f',"from_ref":"{sender_id}","to_refs":["{to_refs}"],"subject":{subject_json}'
            f',"object_marking_refs":{marks}}}'
        )
    out = ['{"type":"email-message","spec_version":"2.1","id":"', oid, '","is_multipart":false']
    if ts is not None:
        out.append(f',"date":"{ts}"')
    if sender_id is not None:
        out.append(f',"from_ref":"{sender_id}"')
    if recipient_ids:
        out.append(',"to_refs":["')
        out.append('","'.join(recipient_ids))
        out.append('"]')
    if subject_json is not None:
        out.append(f',"subject":{subject_json}')
    out.append(f',"object_marking_refs":{marks}}}')
    return oid, "".join(out)


class IndicatorTemplate:
    """What an attacker's indicator has that does not depend on the entry's time, made once.

    The id hashes the JSON array ``[holder, pattern, ts, description, types, tlp]``, of which only
    ``ts`` varies, so the bytes before and after it are kept; the object's text likewise around its id,
    ``created``/``modified`` and ``valid_from``.
    """

    __slots__ = ("attacker", "before_created", "before_id", "before_valid", "end", "head", "tail")

    def __init__(
        self,
        holder: str,
        identity_id: str,
        fmt: str,
        attacker: tuple[str, str],
        signature: str | None,
        types: tuple[str, ...],
        tlp: str,
        marks: str,
    ) -> None:
        kind, value = attacker
        pattern = stix_pattern(kind, value)
        description = f"Attacking side of an entry in a {fmt} log recorded by {holder}."
        if signature is not None and signature.strip():
            description += f" Signature: {signature.strip()}"
        #: ``(sco type, value, pattern)``, as :attr:`ppcti.stix.built.Built.attacker` gives it.
        self.attacker = (kind, value, pattern)
        self.head = PPCTI_NAMESPACE_BYTES + _DUMPS((holder, pattern))[:-1] + b","
        self.tail = b"," + _DUMPS((description, types, tlp))[1:]
        self.before_id = '{"type":"indicator","spec_version":"2.1","id":"indicator--'
        self.before_created = f'","created_by_ref":"{identity_id}","created":"'
        self.before_valid = (
            f'","name":{text(f"Attacking {PATTERN_LABEL[kind]}")},"description":{text(description)}'
            f',"indicator_types":{text(types)},"pattern":{text(pattern)}'
            ',"pattern_type":"stix","pattern_version":"2.1","valid_from":"'
        )
        self.end = f'","object_marking_refs":{marks}}}'

    def json(self, ts: str, created: str) -> tuple[str, str]:
        """``(id, JSON)`` of the indicator for one sighting time (``created`` is its millisecond form).

        :meth:`ppcti.stix.build.BundleBuilder.build` inlines this method.
        """
        h = sha1(self.head + f'"{ts}"'.encode() + self.tail).hexdigest()
        uid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{VARIANT_DIGIT[h[16]]}{h[17:20]}-{h[20:32]}"
        return (
            f"indicator--{uid}",
            f'{self.before_id}{uid}{self.before_created}{created}","modified":"{created}'
            f"{self.before_valid}{ts}{self.end}",
        )
