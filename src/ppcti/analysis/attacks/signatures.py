"""IDS alerts to attack classes: Suricata/Snort (Emerging Threats, Snort community) signature names and
classtype categories.

A signature name says the most ("ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT"), so it is
read first: ordered keyword rules, the first match wins. The ET ruleset's own grouping (``ET SCAN``,
``ET DOS``, ``ET MALWARE`` ...) comes next, and the classtype category ("Web Application Attack",
"Detection of a Network Scan") is the fallback. Policy and information alerts ("ET POLICY", "ET INFO",
"Not Suspicious Traffic") are not attacks and stay unclassified.

Rules run once per *distinct* (signature, category) pair — a feed repeats a few hundred signatures
millions of times — and the answers are joined back onto the events.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple


class SignatureVerdict(NamedTuple):
    cls: str
    confidence: float
    rule: str


def _rx(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


#: (pattern over the signature name, class, confidence, rule id) — first match wins.
NAME_RULES: tuple[tuple[re.Pattern[str], str, float, str], ...] = (
    (
        _rx(
            r"sql[\s_-]*injection|union\s+(all\s+)?select|\bsqli\b|sqlmap|blind sql|xp_cmdshell|"
            r"\bselect\s+(version|from|@@)|sql\s+errors?\b|into\s+outfile"
        ),
        "sql-injection",
        0.95,
        "sig-name-sqli",
    ),
    (_rx(r"cross[\s_-]*site[\s_-]*scripting|\bxss\b"), "xss", 0.95, "sig-name-xss"),
    (
        _rx(
            r"directory\s+traversal|path\s+traversal|dot\s*dot|\.\./|local\s+file\s+inclusion|\blfi\b|"
            r"/etc/passwd|remote\s+file\s+inclusion|\brfi\b|arbitrary\s+file\s+(read|download)|file\s+disclosure|"
            r"\.ht(passwd|access)\b|global\.asa\b|web\.config\b|win\.ini\b"
        ),
        "path-traversal",
        0.9,
        "sig-name-traversal",
    ),
    (
        _rx(
            r"command\s+injection|\bcmd\s+injection|shellshock|command\s+execution|os\s+command|"
            r"cmd\.exe|/bin/(ba)?sh\b|bash\s+-c|cve-2014-6271|cve-2014-7169|suspicious\s+\w+\s+commands?|"
            r"id\s+check\s+returned"
        ),
        "command-injection",
        0.85,
        "sig-name-cmd",
    ),
    (
        _rx(
            r"brute[\s_-]*force|password\s+(guess|spray)|excessive\s+(login|auth)|"
            r"failed\s+(\w+\s+)?(login|logon|auth)|hydra|medusa|ncrack|patator|"
            r"login\s+fail|auth(entication)?\s+fail|\bbrute\b|credential\s+stuffing|"
            r"too many (login|auth)"
        ),
        "brute-force",
        0.9,
        "sig-name-brute",
    ),
    (
        _rx(
            r"\bd?dos\b|denial[\s-]+of[\s-]+service|\bflood|amplification|slowloris|reflect(ion|ed)\s+attack"
        ),
        "dos",
        0.9,
        "sig-name-dos",
    ),
    (
        _rx(
            r"\bscan(ner|ning)?\b|\bnmap\b|masscan|zmap|\bprobe\b|sweep|port\s*scan|nessus|nikto|"
            r"openvas|zgrab|sipvicious|dirbuster|gobuster|\bsqlmap\b"
        ),
        "port-scan",
        0.85,
        "sig-name-scan",
    ),
    (
        _rx(
            r"\bcnc\b|\bc2\b|\bc&c\b|command\s+and\s+control|beacon|checkin|check-in|callback|botnet|"
            r"\btrojan\b|\bmalware\b|backdoor|\brat\b|ransomware|coinminer|cryptominer|\bminer\b|"
            r"mirai|emotet|trickbot|qakbot|cobalt\s*strike|metasploit|meterpreter|stealer|dropper|"
            r"\bworm\b|\bbot\b|known\s+malicious|spyware|keylogger"
        ),
        "malware-callback",
        0.85,
        "sig-name-malware",
    ),
    (_rx(r"phish"), "phishing", 0.85, "sig-name-phishing"),
    (
        _rx(
            r"exploit|overflow|\bcve[-_ ]?\d{4}|attempted\s+(admin|user)|privilege|deserializ|"
            r"injection|inclusion|web_specific_apps|web_server|webshell|web\s+shell|struts|log4j|jndi"
        ),
        "exploit",
        0.75,
        "sig-name-exploit",
    ),
)

#: ET/Snort ruleset groups that carry their own meaning when the name said nothing more.
GROUP_RULES: tuple[tuple[str, str, float], ...] = (
    ("ET SCAN", "port-scan", 0.8),
    ("ET DOS", "dos", 0.8),
    ("ET MALWARE", "malware-callback", 0.8),
    ("ET TROJAN", "malware-callback", 0.8),
    ("ET CNC", "malware-callback", 0.85),
    ("ET BOTCC", "malware-callback", 0.8),
    ("ET MOBILE_MALWARE", "malware-callback", 0.8),
    ("ET EXPLOIT", "exploit", 0.75),
    ("ET WEB_SERVER", "exploit", 0.7),
    ("ET WEB_SPECIFIC_APPS", "exploit", 0.7),
    ("ET WEB_CLIENT", "exploit", 0.6),
    ("ET CURRENT_EVENTS", "exploit", 0.5),
    ("ET ATTACK_RESPONSE", "command-injection", 0.6),
    ("GPL SCAN", "port-scan", 0.8),
    ("GPL SQL", "sql-injection", 0.7),
    ("GPL EXPLOIT", "exploit", 0.7),
    ("GPL WEB_SERVER", "exploit", 0.6),
    ("GPL ATTACK_RESPONSE", "command-injection", 0.6),
)

#: Signature names that are bookkeeping, not attacks, whatever words follow. Reputation lists (DROP,
#: CINS, DShield, Tor, compromised hosts) say who is talking, not what was done: unclassified too.
BENIGN_GROUPS: tuple[str, ...] = (
    "ET DROP",
    "ET CINS",
    "ET DSHIELD",
    "ET TOR",
    "ET COMPROMISED",
    "ET REMOTE_ACCESS",
    "ET POLICY",
    "ET INFO",
    "ET USER_AGENTS",
    "ET HUNTING",
    "ET GAMES",
    "ET CHAT",
    "ET P2P",
    "GPL POLICY",
    "GPL INFO",
    "GPL CHAT",
    "GPL P2P",
)

#: Suricata/Snort classtype descriptions (as in ``alert.category``), lower-case.
CATEGORY_RULES: dict[str, tuple[str, float]] = {
    "web application attack": ("exploit", 0.7),
    "attempted administrator privilege gain": ("exploit", 0.7),
    "attempted user privilege gain": ("exploit", 0.65),
    "successful administrator privilege gain": ("exploit", 0.8),
    "successful user privilege gain": ("exploit", 0.75),
    "executable code was detected": ("exploit", 0.6),
    "a network trojan was detected": ("malware-callback", 0.8),
    "malware command and control activity detected": ("malware-callback", 0.85),
    "possibly unwanted program detected": ("malware-callback", 0.5),
    "detection of a network scan": ("port-scan", 0.8),
    "attempted denial of service": ("dos", 0.75),
    "denial of service": ("dos", 0.8),
    "detection of a denial of service attack": ("dos", 0.8),
    "attempted login with suspicious username": ("brute-force", 0.6),
    "an attempted login using a suspicious username was detected": ("brute-force", 0.6),
    "password guessing": ("brute-force", 0.7),
    "crypto currency mining activity detected": ("malware-callback", 0.6),
    "exploit kit activity detected": ("exploit", 0.75),
    "targeted malicious activity was actively detected": ("exploit", 0.6),
    "domain observed used for c2 detected": ("malware-callback", 0.8),
    "possible social engineering attempted": ("phishing", 0.6),
    # the same classtypes by their short names (classification.config), as some exports carry them
    "web-application-attack": ("exploit", 0.7),
    "attempted-admin": ("exploit", 0.7),
    "attempted-user": ("exploit", 0.65),
    "successful-admin": ("exploit", 0.8),
    "successful-user": ("exploit", 0.75),
    "shellcode-detect": ("exploit", 0.6),
    "trojan-activity": ("malware-callback", 0.8),
    "command-and-control": ("malware-callback", 0.85),
    "pup-activity": ("malware-callback", 0.5),
    "coin-mining": ("malware-callback", 0.6),
    "network-scan": ("port-scan", 0.8),
    "attempted-dos": ("dos", 0.75),
    "successful-dos": ("dos", 0.8),
    "denial-of-service": ("dos", 0.8),
    "suspicious-login": ("brute-force", 0.6),
    "default-login-attempt": ("brute-force", 0.6),
    "exploit-kit": ("exploit", 0.75),
    "targeted-activity": ("exploit", 0.6),
    "domain-c2": ("malware-callback", 0.8),
    "social-engineering": ("phishing", 0.6),
    "credential-theft": ("phishing", 0.6),
}


#: Groups of bookkeeping rules whose names can still name an attack tool or shell commands.
TOOL_GROUPS: frozenset[str] = frozenset({"ET USER_AGENTS", "ET HUNTING", "ET INFO", "ET POLICY"})
_TOOLS = re.compile(
    r"(?P<scan>masscan|zmap|zgrab|nmap|nikto|sqlmap|nessus|openvas|dirbuster|gobuster|wpscan|nuclei|"
    r"acunetix|netsparker|sipvicious|\bscanner\b)|(?P<brute>hydra|medusa|ncrack|patator)",
    re.IGNORECASE,
)
_TOOL_CLASS = {"scan": "port-scan", "brute": "brute-force"}
_COMMANDS_SEEN = re.compile(r"suspicious\s+(windows|linux|shell)\s+commands?", re.IGNORECASE)


def _group(name: str) -> str:
    """``ET WEB_SERVER Foo`` → ``ET WEB_SERVER``: the ruleset's two-word prefix."""
    words = name.split(None, 2)
    return " ".join(words[:2]).upper()


@lru_cache(maxsize=16384)
def classify_signature(signature: str | None, category: str | None) -> SignatureVerdict | None:
    """The class an IDS alert stands for, or ``None`` for policy/info alerts and unknown ones."""
    name = (signature or "").strip()
    cat = (category or "").strip().lower()
    group = _group(name) if name else ""
    if group in BENIGN_GROUPS or group.split(" ")[0] in BENIGN_GROUPS:
        # a scanner's or brute forcer's user agent is filed under ET USER_AGENTS, yet names the attack
        if group in TOOL_GROUPS and (found := _TOOLS.search(name)):
            return SignatureVerdict(_TOOL_CLASS[found.lastgroup or ""], 0.8, "sig-tool")
        if group in TOOL_GROUPS and (found := _COMMANDS_SEEN.search(name)):
            return SignatureVerdict("command-injection", 0.6, "sig-tool")
        return None
    if name:
        for pattern, cls, confidence, rule in NAME_RULES:
            if pattern.search(name):
                return SignatureVerdict(cls, confidence, rule)
        for prefix, cls, confidence in GROUP_RULES:
            if group == prefix:
                return SignatureVerdict(cls, confidence, "sig-group")
    if cat in CATEGORY_RULES:
        cls, confidence = CATEGORY_RULES[cat]
        return SignatureVerdict(cls, confidence, "sig-category")
    return None
