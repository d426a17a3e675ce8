"""Masked examples: enough shape to recognise a finding, never enough to recover the value.

Every example that leaves the PII stage goes through :func:`mask`; nothing else in ``ppcti.pii`` formats
raw values, so this module is the one place to audit.

Two levels. ``shape`` (the default) keeps only the format: each run of letters or digits becomes ``***``
whatever its length, separators stay (``***.***.***.***``, ``***@***.***``, ``*** ***``), so an example
shows what kind of value was found and how it is written, and nothing of the value itself: no octets, no
vendor prefix, no initials, no word lengths. ``partial`` is the older, more telling form (IP prefix,
MAC vendor, initials, last card digits) and must be asked for explicitly.
"""

from __future__ import annotations

import ipaddress
import re

_ALNUM = re.compile(r"[A-Za-z0-9]")
_WORD = re.compile(r"\w+", re.UNICODE)


def _stars(text: str) -> str:
    return _ALNUM.sub("*", text)


def mask_email(value: str) -> str:
    local, _, domain = value.strip().rpartition("@")
    labels = domain.split(".")
    tld = labels[-1] if len(labels) > 1 else ""
    head = ".".join(lbl[:1] + "*" * max(len(lbl) - 1, 1) for lbl in labels[:-1]) if tld else "*" * len(domain)
    return f"{local[:1]}***@{head}{'.' + tld if tld else ''}"


def mask_ip(value: str) -> str:
    try:
        ip = ipaddress.ip_address(value.strip().split("%")[0])
    except ValueError:
        return mask_generic(value)
    if ip.version == 4:
        a, b, _, _ = str(ip).split(".")
        return f"{a}.{b}.***.***"
    groups = ip.exploded.split(":")
    return groups[0] + ":****" * 7


def mask_tail(value: str, keep: int = 4) -> str:
    """Stars over all letters and digits but the last ``keep``; separators kept (``**** **** **** 1111``)."""
    positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    if len(positions) <= keep * 2:
        keep = max(0, len(positions) // 4)
    hidden = set(positions[: len(positions) - keep])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value.strip()))


def mask_words(value: str) -> str:
    """First letter of each word (``J*** D**``)."""
    return _WORD.sub(lambda m: m.group(0)[:1] + "*" * (len(m.group(0)) - 1), value.strip())


def mask_generic(value: str) -> str:
    v = value.strip()
    if len(v) <= 3:
        return "*" * len(v)
    return v[:1] + _stars(v[1:])


_BY_TYPE = {
    "EMAIL_ADDRESS": mask_email,
    "IP_ADDRESS": mask_ip,
    "CREDIT_CARD": mask_tail,
    "IBAN_CODE": lambda v: v.strip()[:2] + mask_tail(v.strip()[2:], 3),
    "PERSON": mask_words,
    "ADDRESS": mask_words,
    "LOCATION": mask_words,
    "PHONE_NUMBER": lambda v: mask_tail(v, 2),
    "BIRTH_DATE": _stars,
    "DECEASED_DATE": _stars,
    "DATE_TIME": _stars,
    "AGE": _stars,
    "WEIGHT": _stars,
    "POSTAL_CODE": lambda v: mask_tail(v, 0),
    "MAC_ADDRESS": lambda v: v.strip()[:8] + _stars(v.strip()[8:]),
    "URL": lambda v: re.sub(r"^((?:[a-z]+://)?[^/]{0,4})[^\s]*", lambda m: m.group(1) + "***", v.strip()),
}


#: The example levels :func:`mask` knows; ``shape`` is the default everywhere.
MASK_DETAILS: tuple[str, ...] = ("shape", "partial")
_RUN = re.compile(r"[^\W_]+", re.UNICODE)


def mask_shape(value: str) -> str:
    """The format's shape only: every run of letters/digits is ``***``, separators kept, whitespace
    runs collapsed to one space."""
    return re.sub(r"\s+", " ", _RUN.sub("***", value.strip()))


def mask(type_id: str, value: str, detail: str = "shape") -> str:
    """Mask ``value`` for a report. ``detail="shape"`` (default): :func:`mask_shape`. ``"partial"``: the
    way each type was shown before (unknown types get :func:`mask_generic`).

    Safety net: a type's mask may keep a little shape (domain TLD, IP prefix, last card digits), but if a
    value does not have the expected shape and more than half its letters and digits would survive, the
    generic mask (first character only) is used instead.
    """
    if detail != "partial":
        return mask_shape(value)
    masked = _BY_TYPE.get(type_id, mask_generic)(value)
    alnum = sum(ch.isalnum() for ch in value)
    kept = sum(ch.isalnum() for ch in masked)
    if alnum and (masked.strip() == value.strip() or kept > max(4, alnum // 2)):
        return mask_generic(value)
    return masked
