"""Payload detectors: SQL injection, cross-site scripting, path traversal, command injection.

SQL injection and XSS use libinjection (through the ``libinjection-python`` binding): it tokenises the
input as SQL in three quoting contexts and looks the token-type fingerprint up in a list learnt from
real attacks, and parses HTML5 the way a browser does for XSS. That is what web application firewalls
(ModSecurity, Coraza) use, and it is far harder to evade and far less noisy than keyword regexes.
The binding ships libinjection 3.10 (2017); :mod:`.sqltokens` and :mod:`.xsstokens` add the same kind
of token-level reasoning for forms it does not know (newer event handlers, stacked DDL, JS-string
break-outs), and two kinds of libinjection positives are treated as data (see :func:`_inert`).

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
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote_plus

from ppcti.analysis.attacks.sqltokens import SIDE_EFFECT_FUNCTIONS, sql_rule
from ppcti.analysis.attacks.xsstokens import html_rule

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

_OVERLONG = {
    "%c0%ae": ".",
    "%c0%af": "/",
    "%c1%9c": "\\",
    "%e0%80%ae": ".",
    "%u002e": ".",
    "%u002f": "/",
    "%u2215": "/",
    "%u2216": "\\",
}
_OVERLONG_RX = re.compile("|".join(re.escape(k) for k in _OVERLONG), re.IGNORECASE)
_PERCENT_U = re.compile(r"%u([0-9a-f]{4})", re.IGNORECASE)
_BACKSLASH_X = re.compile(r"\\x([0-9a-f]{2})", re.IGNORECASE)


def _percent_u(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


def decode(value: str, rounds: int = 3) -> str:
    """The value as a server would see it after (possibly repeated) URL and HTML-entity decoding,
    overlong UTF-8 and ``%u`` forms of dots and slashes included."""
    text = value
    for _ in range(rounds):
        new = _OVERLONG_RX.sub(lambda m: _OVERLONG[m.group(0).lower()], text) if "%" in text else text
        new = _PERCENT_U.sub(_percent_u, new) if "%u" in new or "%U" in new else new
        new = _BACKSLASH_X.sub(_percent_u, new) if "\\x" in new or "\\X" in new else new
        new = unquote_plus(new) if "%" in new or "+" in new else new
        if "&" in new:
            new = html.unescape(new)
        if not new.isascii():
            new = unicodedata.normalize("NFKC", new)  # fullwidth dots and slashes become ASCII
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
    "proc/version",
    "win.ini",
    "boot.ini",
    "system32",
    "system.ini",
    ".htpasswd",
    ".htaccess",
    "web.config",
    "wp-config.php",
    ".ssh/",
    ".bash_history",
    ".git/config",
    ".env",
    "/var/log/",
)
#: PHP/Java stream wrappers that turn a file parameter into an inclusion of anything.
_WRAPPER = re.compile(
    r"^\s*(?:file:|php://|zip://|phar://|expect://|data://|glob://|jar:file:)", re.IGNORECASE
)
_PARENT = re.compile(r"^\.\.+[ .]*(?:;.*)?$")  # "..", "...", ".. ", "..;jsessionid" (Tomcat path parameter)


def path_traversal(value: str) -> Detection | None:
    """A path that climbs above its starting directory, names a system file outright, or goes through
    a stream wrapper."""
    text = decode(value).replace("\x00", "")
    low = text.lower()
    wrapper = _WRAPPER.match(low) is not None
    names_file = any(s in low for s in _SENSITIVE)
    if ".." not in low and not names_file and not wrapper:
        return None
    dots = depth = 0
    escaped = False
    for seg in re.split(r"[/\\]+", low):
        stripped = seg.strip()
        if _PARENT.match(stripped):
            dots += 1
            depth -= 1
            escaped = escaped or depth < 0
        elif stripped not in ("", "."):
            depth += 1
    if "/" not in low and "\\" not in low:
        dots = 0  # "..." alone is an ellipsis, not a path
    if dots and escaped:
        return Detection("path-traversal", "path-climb", 0.95, f"{dots} parent segments")
    if dots and names_file:
        return Detection("path-traversal", "path-climb-sensitive", 0.95, "parent segment to a system file")
    if wrapper:
        return Detection("path-traversal", "stream-wrapper", 0.9, "file or stream wrapper")
    if names_file and re.match(r"^\s*(?:[a-z]:)?[/\\]", low):
        return Detection("path-traversal", "absolute-sensitive", 0.85, "absolute path of a system file")
    return None


# --- command injection ------------------------------------------------------------------------------------

_COMMANDS = frozenset(
    [
        "cat",
        "ls",
        "id",
        "whoami",
        "uname",
        "wget",
        "curl",
        "nc",
        "ncat",
        "netcat",
        "bash",
        "sh",
        "zsh",
        "ksh",
        "dash",
        "ping",
        "sleep",
        "echo",
        "printf",
        "cmd",
        "cmd.exe",
        "powershell",
        "powershell.exe",
        "pwsh",
        "ipconfig",
        "ifconfig",
        "rm",
        "chmod",
        "chown",
        "python",
        "python3",
        "perl",
        "ruby",
        "php",
        "nslookup",
        "dig",
        "telnet",
        "ssh",
        "scp",
        "ftp",
        "tftp",
        "busybox",
        "mkfifo",
        "mknod",
        "sudo",
        "su",
        "kill",
        "killall",
        "ps",
        "netstat",
        "printenv",
        "touch",
        "cp",
        "mv",
        "head",
        "tail",
        "grep",
        "awk",
        "sed",
        "xargs",
        "base64",
        "tee",
        "certutil",
        "bitsadmin",
        "wscript",
        "cscript",
        "mshta",
        "rundll32",
        "regsvr32",
        "systeminfo",
        "tasklist",
        "hostname",
        "pwd",
        "useradd",
        "passwd",
        "crontab",
        "nohup",
        "uname",
        "net.exe",
        "whoami.exe",
        "nc.exe",
        "ifconfig.exe",
        "ipconfig.exe",
        "dir",
        "type",
        "timeout",
        "w",
        "ver",
        "net",
        "tasklist",
    ]
)
_SEPARATORS = re.compile(r"(\|\||&&|;+|\||&|`|\$\(|\n|\r|<\(|>\()")
#: What may follow a command word: an argument, a redirect or another separator, never "(" or a letter.
_AFTER_COMMAND = frozenset(" \t;|&<>)`$#'\"\n\r%")
_SHELLSHOCK = re.compile(r"\(\s*\)\s*\{[^}]*;\s*\}\s*;")
_WORD = re.compile(r"[A-Za-z0-9_./\\:-]+")
#: Calls that run a command from code: PHP, Python, Java, Node, Perl; SSI; Log4Shell's JNDI lookup.
_EXEC_API = re.compile(
    r"(?:\b(?:system|passthru|shell_exec|exec|popen|proc_open|pcntl_exec|spawn|execsync|spawnsync)\s*\(\s*['\"`$]"
    r"|\bos\s*\.\s*(?:system|popen|exec\w*)\s*\("
    r"|\bsubprocess\s*\.\s*\w+\s*\("
    r"|runtime\s*\.\s*getruntime\s*\(\s*\)\s*\.\s*exec\s*\("
    r"|child_process|processbuilder\s*\("
    r"|<!--\s*#\s*exec\s+cmd\s*="
    r"|\$\{\s*jndi\s*:"
    r"|<\?php\s)",
    re.IGNORECASE,
)


def _command_word(segment: str) -> tuple[str, str] | None:
    """First word of a shell command segment without its directory (``/bin/cat`` → ``cat``), and what
    follows it."""
    seg = segment.lstrip(" \t\"'({<")
    seg = seg.replace("${IFS}", " ").replace("$IFS", " ")
    m = _WORD.match(seg)
    if not m:
        return None
    word = re.split(r"[/\\]", m.group(0).lower())[-1]
    return (word, seg[m.end() :]) if word else None


def command_injection(value: str) -> Detection | None:
    """A known command word right after a shell separator (``;``, ``|``, ``&&``, backtick, ``$(``),
    followed by an argument or a redirect; a shellshock prefix; or a command-execution API call."""
    text = decode(value)
    if _SHELLSHOCK.search(text):
        return Detection("command-injection", "shellshock", 0.98, "function definition prefix")
    parts = _SEPARATORS.split(text)
    for i in range(1, len(parts) - 1, 2):
        sep, following = parts[i], parts[i + 1]
        found = _command_word(following)
        if found is None or found[0] not in _COMMANDS:
            continue
        word, rest = found
        if rest[:1] == "" or rest[0] in _AFTER_COMMAND:
            return Detection("command-injection", "separator-command", 0.95, f"{sep!r} then {word}")
    if _EXEC_API.search(text):
        return Detection("command-injection", "exec-api", 0.9, "command execution call")
    return None


# --- SQL injection and XSS (libinjection, then the grammar rules of sqltokens/xsstokens) -----------------


#: Fingerprints that are a lone function call (``sin(30)``, ``max(5)`` in a search): an injection only
#: when the function is one attackers call for its side effect (``sleep(5)``), see :func:`_lone_call`.
_LONE_CALL = re.compile(r"^[sn]?f\(1?[n1]?\)$")


def _inert(result: dict) -> bool:
    """libinjection flagged a value that cannot leave its data context on its own: a bare function call
    of a harmless function (``sin(30)``), or a value that *is* a statement (``SELECT name FROM t``, a
    forum search) — fingerprint starting with a statement keyword, no quote, comment or ``;`` before.
    The grammar rules still catch such a value when it has an injection's form (``UNION``, stacking)."""
    fingerprint = result["fingerprint"]
    if fingerprint[:1] == "E":
        return True
    if not _LONE_CALL.match(fingerprint):
        return False
    names = [t["val"].decode("latin-1").lower() for t in result["token_vector"] if t["type"] == ord("f")]
    return not any(n in SIDE_EFFECT_FUNCTIONS for n in names)


def sql_injection(value: str) -> Detection | None:
    text = decode(value)
    if _libinjection is not None:
        result = _libinjection.is_sql_injection(text)
        if result["is_sqli"] and not _inert(result):
            return Detection(
                "sql-injection", "libinjection-sqli", 0.95, "fingerprint " + result["fingerprint"]
            )
    rule = sql_rule(text)
    if rule is not None:
        return Detection("sql-injection", "sql-" + rule, 0.9, "sql grammar")
    return None


def xss(value: str) -> Detection | None:
    text = decode(value)
    if _libinjection is not None and _libinjection.is_xss(text)["is_xss"]:
        return Detection("xss", "libinjection-xss", 0.95, "html5 tokeniser")
    rule = html_rule(text)
    if rule is not None:
        return Detection("xss", "xss-" + rule, 0.9, "html/js grammar")
    return None


#: Order of precedence: a shell command or a script is unambiguous; SQL grammar is the broadest.
_DETECTORS = (command_injection, xss, sql_injection, path_traversal)


_ORIGIN = re.compile(r"^(?:https?|ftp|wss?)://[^/?#\s]*", re.IGNORECASE)


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
    (the order of :data:`_DETECTORS`: command injection, XSS, SQL injection, path traversal).
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
