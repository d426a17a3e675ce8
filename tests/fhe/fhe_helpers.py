"""Plain helpers of the FHE tests (kept out of conftest.py, which is not importable by name)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from ppcti.fhe.encoding import canonical_address

Pipeline = Callable[..., dict[str, bool]]


def plain_membership(values: list[str], blacklist: list[str]) -> dict[str, bool]:
    """The reference: Python set / network membership on the same inputs."""
    nets, emails = [], set()
    for line in blacklist:
        text = line.split("#", 1)[0].split(";", 1)[0].strip()
        if not text:
            continue
        if "@" in text:
            emails.add(text.lower())
        else:
            nets.append(ipaddress.ip_network(text, strict=False))
    out = {}
    for value in values:
        found = canonical_address(value)
        if found is None:
            continue
        kind, canon = found
        if kind == "email":
            out[canon] = canon in emails
        else:
            ip = ipaddress.ip_address(canon)
            out[canon] = any(n.version == ip.version and ip in n for n in nets)
    return out


def ppcti_command(*args: str) -> list[str]:
    """The ``ppcti`` command line in a child process, with this source tree's package."""
    import sys

    return [sys.executable, "-c", "from ppcti.cli import main; main()", *args]


def child_env() -> dict[str, str]:
    import os
    from pathlib import Path

    env = dict(os.environ)
    src = str(Path(__file__).parents[2] / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def start_service(*args: str, env: dict[str, str] | None = None) -> tuple[object, str]:
    """Start ``ppcti fhe serve ARGS --listen 127.0.0.1:0``; the process and its URL once it listens."""
    import re
    import subprocess

    proc = subprocess.Popen(
        ppcti_command("fhe", "serve", *args, "--listen", "127.0.0.1:0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or child_env(),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"on (https?://127\.0\.0\.1:\d+)", line)
    if found is None:
        proc.kill()
        _out, err = proc.communicate(timeout=30)
        raise AssertionError(f"service did not start: {line!r} {err[-2000:]!r}")
    return proc, found.group(1)
