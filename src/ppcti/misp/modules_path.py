"""Where ppcti's misp-modules modules live (the folder to pass to ``misp-modules -c``)."""

from __future__ import annotations

from pathlib import Path


def modules_path() -> Path:
    """The custom modules root: ``expansion/ppcti_blacklist.py`` and any later module types."""
    return Path(__file__).with_name("modules")
