"""The attack classes ppcti reports, each mapped once to MITRE ATT&CK and CAPEC.

One table so that the classifier, insights.json, the report and the STIX attack-pattern objects all name
a class the same way. Technique ids are ATT&CK Enterprise (v15); CAPEC ids are given only where one
pattern fits the class as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Technique:
    id: str
    name: str

    @property
    def url(self) -> str:
        return "https://attack.mitre.org/techniques/" + self.id.replace(".", "/") + "/"


@dataclass(frozen=True, slots=True)
class AttackClass:
    """One kind of malicious action; ``rank`` orders classes from most to least specific."""

    name: str
    label: str
    techniques: tuple[Technique, ...]
    capec: tuple[tuple[str, str], ...] = ()
    tactic: str = "initial-access"
    rank: int = 50

    def capec_url(self, capec_id: str) -> str:
        return f"https://capec.mitre.org/data/definitions/{capec_id.removeprefix('CAPEC-')}.html"


T1190 = Technique("T1190", "Exploit Public-Facing Application")
T1059 = Technique("T1059", "Command and Scripting Interpreter")
T1110 = Technique("T1110", "Brute Force")
T1046 = Technique("T1046", "Network Service Discovery")
T1595 = Technique("T1595", "Active Scanning")
T1498 = Technique("T1498", "Network Denial of Service")
T1499 = Technique("T1499", "Endpoint Denial of Service")
T1071 = Technique("T1071", "Application Layer Protocol")
T1566 = Technique("T1566", "Phishing")
T1566_001 = Technique("T1566.001", "Spearphishing Attachment")

_CLASSES = (
    AttackClass("sql-injection", "SQL injection", (T1190,), (("CAPEC-66", "SQL Injection"),), rank=1),
    AttackClass(
        "xss", "Cross-site scripting", (T1190,), (("CAPEC-63", "Cross-Site Scripting (XSS)"),), rank=2
    ),
    AttackClass("path-traversal", "Path traversal", (T1190,), (("CAPEC-126", "Path Traversal"),), rank=3),
    AttackClass(
        "command-injection",
        "Command injection",
        (T1190, T1059),
        (("CAPEC-88", "OS Command Injection"),),
        rank=4,
    ),
    AttackClass("exploit", "Exploit attempt", (T1190,), rank=10),
    AttackClass(
        "malware-callback",
        "Malware callback",
        (T1071,),
        tactic="command-and-control",
        rank=5,
    ),
    AttackClass(
        "brute-force",
        "Brute force",
        (T1110,),
        (("CAPEC-49", "Password Brute Forcing"),),
        tactic="credential-access",
        rank=6,
    ),
    AttackClass(
        "dos", "Denial of service", (T1498, T1499), (("CAPEC-125", "Flooding"),), tactic="impact", rank=7
    ),
    AttackClass(
        "port-scan",
        "Port and service scan",
        (T1046,),
        (("CAPEC-300", "Port Scanning"),),
        tactic="discovery",
        rank=8,
    ),
    AttackClass("phishing", "Phishing", (T1566,), (("CAPEC-98", "Phishing"),), rank=9),
    AttackClass("malware-email", "Malicious attachment", (T1566_001,), (("CAPEC-98", "Phishing"),), rank=9),
    AttackClass("spam", "Spam", (), tactic="", rank=40),
    AttackClass("probe", "Blocked probe", (T1595,), tactic="reconnaissance", rank=45),
)

#: Class name → class, in rank order.
CLASSES: dict[str, AttackClass] = {c.name: c for c in sorted(_CLASSES, key=lambda c: (c.rank, c.name))}
#: Class names in rank order: the most specific first (a request that is SQL injection *and* was blocked
#: is reported as SQL injection).
CLASS_ORDER: tuple[str, ...] = tuple(CLASSES)


def techniques_of(name: str) -> list[dict[str, str]]:
    """``[{id, name}]`` of a class, as written into insights.json."""
    return [{"id": t.id, "name": t.name} for t in CLASSES[name].techniques]


def capec_of(name: str) -> list[str]:
    return [cid for cid, _ in CLASSES[name].capec]
