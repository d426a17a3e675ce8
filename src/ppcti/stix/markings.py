"""TLP 2.0 data markings as OASIS publishes them.

STIX 2.1 itself predefines only the TLP 1.0 markings (and ``stix2`` ships only those). TLP 2.0 arrived as a
property extension, ``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d``, with one published
marking-definition object per level (``cti-stix-common-objects``, ``extension-definition-specifications/
tlp-2.0``). Consumers recognise a level by these exact ids, so they are constants here rather than generated;
the objects are copied into every bundle so that a bundle is understandable on its own.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

#: The extension definition every TLP 2.0 marking declares itself through.
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#: The ``created`` timestamp the published objects carry (part of the object, like the id).
TLP2_CREATED = "2022-10-01T00:00:00.000Z"

#: Official marking-definition ids per TLP 2.0 level.
TLP2_IDS: MappingProxyType[str, str] = MappingProxyType(
    {
        "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
)

TLP_LEVELS: tuple[str, ...] = tuple(TLP2_IDS)


def tlp_marking(level: str) -> dict[str, Any]:
    """The published marking-definition object for a TLP 2.0 level (a fresh dict each call)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[level],
        "created": TLP2_CREATED,
        "name": f"TLP:{level.upper()}",
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}},
    }


def normalise_tlp(level: str) -> str | None:
    """Accept ``amber``, ``TLP:AMBER``, ``AMBER+STRICT`` …; ``white`` is TLP 1.0's name for ``clear``."""
    text = level.strip().lower().removeprefix("tlp:").replace(" ", "")
    if text == "white":
        text = "clear"
    return text if text in TLP2_IDS else None
