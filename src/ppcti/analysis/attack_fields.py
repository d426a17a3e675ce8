"""Fields under ``extra`` that attack classification reads, named once for the loader and the classifier.

Kept apart (no imports) so that :mod:`ppcti.analysis.load` can read them in its single pass over the
events without importing the classifier.
"""

from __future__ import annotations

#: HTTP request parts the payload detectors read: the URL or URI (with query), a raw payload, the agent.
HTTP_FIELDS: tuple[str, ...] = ("url", "uri", "http_url", "payload", "request", "query", "user_agent")

#: Every ``extra`` field classification reads besides ``sender`` and ``verdict`` (read by the loader anyway).
ATTACK_EXTRA_FIELDS: tuple[str, ...] = (
    "signature",
    "category",
    "severity",
    "event_type",
    "action",
    "chain",
    "prefix",
    "tcp_flags",
    "subject",
    "http_method",
    *HTTP_FIELDS,
)
