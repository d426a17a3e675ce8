"""Payload detectors: SQL injection, cross-site scripting, path traversal, command injection.

SQL injection and XSS use libinjection (through the ``libinjection-python`` binding): it tokenises the
input as SQL in three quoting contexts and looks the token-type fingerprint up in a list learnt from
real attacks, and parses HTML5 the way a browser does for XSS. That is what web application firewalls
(ModSecurity, Coraza) use, and it is far harder to evade and far less noisy than keyword regexes.

Path traversal and command injection follow the same idea with small tokenisers of our own: the value is
decoded the way a server would (URL decoding up to three times, overlong UTF-8 dots and slashes, HTML
entities), then split into path segments or shell commands, and the verdict comes from the structure
(a path that climbs above its root, a command word after a shell separator), not from a substring.

A request (URL) is split into its path and its query parameters, and every part is checked on its own,
as a WAF does; a bare payload is checked whole. Results are cached per distinct value: logs repeat.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote_plus

try:  # the binding is an optional extra ([attacks]); without it SQLi/XSS payloads are not detected
    import libinjection as _libinjection
except ImportError:  # pragma: no cover - exercised only on installs without the extra
    _libinjection = None

#: Whether the SQL injection and XSS detectors are available in this installation.
HAVE_LIBINJECTION = _libinjection is not None


@dataclass(frozen=True, slots=True)
class Detection:
    """One payload verdict: class, rule and a token summary that never contains the payload itself."""

    cls: str
    rule: str
    confidence: float
    detail: str = ""


# --- decoding ---------------------------------------------------------------------------------------------

_OVERLONG = (
    ("%c0%ae", "."),
    ("%c0%af", "/"),
    ("%c1%9c", "\\"),
    ("%e0%80%ae", "."),
    ("%u002e", "."),
    ("%u2215", "/"),
    ("%u2216", "\\"),
)


def decode(value: str, rounds: int = 3) -> str:
    """The value as a server would see it after (possibly repeated) URL and HTML-entity decoding."""
    text = value
    for _ in range(rounds):
        low = text.lower()
        for enc, dec in _OVERLONG:
            if enc in low:
                text = re.sub(re.escape(enc), dec, text, flags=re.IGNORECASE)
                low = text.lower()
        new = unquote_plus(text) if "%" in text or "+" in text else text
        if "&" in new:
            new = html.unescape(new)
        if new == text:
            break
        text = new
    return text


# --- path traversal ---------------------------------------------------------------------------------------

_SENSITIVE = (
    "etc/passwd",
    "etc/shadow",
    "etc/hosts",
    "etc/group",
    "etc/issue",
    "proc/self",
    "win.ini",
    "boot.ini",
    "system32",
    "windows/system.ini",
    ".htpasswd",
    ".htaccess",
    "web.config",
    "wp-config.php",
    ".ssh/id_rsa",
    ".bash_history",
    "/var/log/",
)
_SCHEME_FILE = re.compile(r"^\s*(?:file|php|zip|phar|expect|data)://", re.IGNORECASE)


def _segments(path: str) -> list[str]:
    return [s for s in re.split(r"[/\\]+", path)]


def path_traversal(value: str) -> Detection | None:
    """A path that climbs out of its directory (``..`` segments) or names a system file outright."""
    text = decode(value).replace("\x00", "")
    low = text.lower()
    if ".." not in low and not any(s in low for s in _SENSITIVE) and not _SCHEME_FILE.match(low):
        return None
    dots = 0
    depth = 0
    escaped = False
    for seg in _segments(low):
        stripped = seg.strip()
        if stripped in ("..", "...", "....") or re.fullmatch(r"\.\.[. ]*", stripped or "x"):
            dots += 1
            depth -= 1
            escaped = escaped or depth < 0
        elif stripped not in ("", "."):
            depth += 1
    names_file = any(s in low for s in _SENSITIVE)
    if dots >= 2 and (escaped or names_file):
        return Detection("path-traversal", "path-climb", 0.95, f"{dots} parent segments")
    if dots >= 1 and names_file:
        return Detection("path-traversal", "path-climb-sensitive", 0.95, "parent segment to a system file")
    if _SCHEME_FILE.match(low) and names_file:
        return Detection("path-traversal", "wrapper-sensitive", 0.9, "file wrapper to a system file")
    if names_file and re.match(r"^\s*(?:[a-z]:)?[/\\]", low):
        return Detection("path-traversal", "absolute-sensitive", 0.85, "absolute path of a system file")
    return None


# --- command injection ------------------------------------------------------------------------------------

_COMMANDS = frozenset(
    """
    cat ls id whoami uname wget curl nc ncat netcat bash sh zsh ksh dash ping sleep echo cmd cmd.exe
    powershell powershell.exe pwsh net ipconfig ifconfig rm chmod chown python python3 perl ruby php
    nslookup dig host dir type telnet ssh scp ftp tftp busybox mkfifo mknod sudo su kill killall ps
    netstat env printenv set export touch cp mv head tail more less find grep awk sed xargs base64 tee
    certutil bitsadmin wscript cscript mshta rundll32 regsvr32 systeminfo tasklist hostname pwd sh.exe
    useradd passwd crontab nohup exec eval start timeout waitfor ver vol
    """.split()
)
_SEPARATORS = re.compile(r"(\|\||&&|;|\||&|`|\$\(|\n|\r|\$\{IFS\}|<\(|>\()")
_SHELLSHOCK = re.compile(r"\(\s*\)\s*\{[^}]*;\s*\}\s*;")
_WORD = re.compile(r"[A-Za-z0-9_./\\:-]+")


def _command_word(segment: str) -> str | None:
    """First word of a shell command segment, without its directory (``/bin/cat`` → ``cat``)."""
    seg = segment.lstrip(" \t\"'({<")
    seg = seg.replace("${IFS}", " ").replace("$IFS", " ")
    m = _WORD.match(seg)
    if not m:
        return None
    word = m.group(0).rstrip(".:").lower()
    word = re.split(r"[/\\]", word)[-1]
    return word or None


def command_injection(value: str) -> Detection | None:
    """A known command word right after a shell separator (``;``, ``|``, ``&&``, backtick, ``$(``)."""
    text = decode(value)
    if _SHELLSHOCK.search(text):
        return Detection("command-injection", "shellshock", 0.98, "function definition prefix")
    parts = _SEPARATORS.split(text)
    if len(parts) < 3:
        return None
    for i in range(1, len(parts) - 1, 2):
        sep, following = parts[i], parts[i + 1]
        word = _command_word(following)
        if word is None or word not in _COMMANDS:
            continue
        rest = following.lstrip(" \t\"'({<")[len(word) :]
        # "a & echo" in free text vs "& echo x" as a command: a command must be followed by an
        # argument, another separator, or nothing.
        if sep in ("&", "|") and not (rest[:1] in ("", " ", "\t", "$", "-", "/", "%") or rest.startswith("${")):
            continue
        return Detection("command-injection", "separator-command", 0.95, f"{sep!r} then {word}")
    return None


# --- SQL injection and XSS (libinjection) ---------------------------------------------------------------


def sql_injection(value: str) -> Detection | None:
    if _libinjection is None:
        return None
    text = decode(value)
    result = _libinjection.is_sql_injection(text)
    if result["is_sqli"]:
        return Detection("sql-injection", "libinjection-sqli", 0.95, "fingerprint " + result["fingerprint"])
    return None


def xss(value: str) -> Detection | None:
    if _libinjection is None:
        return None
    text = decode(value)
    if _libinjection.is_xss(text)["is_xss"]:
        return Detection("xss", "libinjection-xss", 0.95, "html5 tokeniser")
    return None


_DETECTORS = (sql_injection, xss, command_injection, path_traversal)


_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#\s]*", re.IGNORECASE)


def _parts(text: str) -> list[str]:
    """A request's path and each query value, or the whole text when it is not a URL."""
    stripped = text.strip()
    if _ORIGIN.match(stripped) is None and not stripped.startswith("/"):
        return [stripped]
    url = _ORIGIN.sub("", stripped)
    path, _, query = url.partition("?")
    out = [path]
    for pair in query.split("#", 1)[0].split("&"):
        name, _, val = pair.partition("=")
        if val:
            out.append(val)
        if any(ch in name for ch in "'\"<>();|`"):
            out.append(name)
    return out


@lru_cache(maxsize=65536)
def detect(text: str) -> Detection | None:
    """The strongest detection in a request or payload, or ``None``.

    Every part (path, each query value) goes through every detector; the most specific class wins
    (the order of :data:`_DETECTORS`: SQL injection, XSS, command injection, path traversal).
    """
    if not text:
        return None
    parts = _parts(text)
    for detector in _DETECTORS:
        for part in parts:
            if part:
                found = detector(part)
                if found is not None:
                    return found
    return None
