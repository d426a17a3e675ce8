"""XSS beyond libinjection's 2017 lists: HTML tags and attributes, and breaking out of a JS string.

libinjection parses HTML5 like a browser and flags dangerous tags and attributes from its lists; the
version the binding ships knows the event handlers of its day, not ``onpointerdown`` or
``ontransitionend``. Its newer releases treat *every* ``on*`` attribute as dangerous; this module does
the same with a small tag tokeniser (``<name attr=value ...``), and adds the two contexts libinjection
does not parse:

* ``html``: a tag with an ``on*`` event attribute, or an attribute whose value is a ``javascript:``,
  ``vbscript:`` or ``data:text/html`` URL, or a ``<script``/``<iframe``/``<svg``/``<object``/
  ``<embed``/``<base``/``<meta http-equiv=refresh`` tag, or a ``{alert(1)}``-style entity expression;
* ``js-url``: the value itself is a ``javascript:``/``vbscript:`` URL (a link or redirect parameter);
* ``js-breakout``: a quote that closes a JavaScript string, an operator or ``;``, and a call of a
  browser sink (``alert``, ``prompt``, ``eval``, ``fetch``, ``document.*`` ...).
"""

from __future__ import annotations

import re

_TAG = re.compile(r"<\s*/?\s*([a-z][a-z0-9:-]*)([^>]*)(?:>|$)", re.IGNORECASE | re.DOTALL)
_ATTR = re.compile(
    r"""[\s/"']([a-z_:][-a-z0-9_:.]*)(?:\s*=\s*("[^"]*"?|'[^']*'?|`[^`]*`?|[^\s>]+))?""", re.IGNORECASE
)
_DANGEROUS_TAGS = frozenset(
    [
        "script",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "base",
        "svg",
        "math",
        "xss",
        "import",
        "vmlframe",
        "isindex",
    ]
)
_TAB_NL = re.compile(r"[\t\n\r]+")
_JS_SCHEME = re.compile(r"^(?:javascript|vbscript|livescript):|^data:text/html", re.IGNORECASE)
_SINKS = (
    r"alert|prompt|confirm|eval|print|fetch|open|atob|settimeout|setinterval|function|import|"
    r"document\.[a-z]+|window\.[a-z]+|location|self\s*\[|top\s*\[|this\s*\[|parent\s*\[|string\.fromcharcode|"
    r"constructor|xmlhttprequest|navigator\.[a-z]+"
)
_BREAKOUT = re.compile(
    r"""(?:^|[^\\\w])\\?['"`]\s*(?:[;)+\-*/|&,^}]|\]\s*;|\)\s*;)+\s*\(?\s*(?:"""
    + _SINKS
    + r""")\s*[(`\[=.)]""",
    re.IGNORECASE,
)
_ENTITY_EXPR = re.compile(r"&\{[^}]*\}")


def _scheme(value: str) -> bool:
    """A URL a browser runs as script: schemes lose tabs and newlines inside, and leading controls."""
    cleaned = _TAB_NL.sub("", value).strip("\"'`").lstrip("".join(map(chr, range(33))))
    return bool(_JS_SCHEME.match(cleaned))


def html_rule(text: str) -> str | None:
    """Name of the XSS rule ``text`` satisfies (see the module docstring), or ``None``."""
    if "<" in text:
        for tag in _TAG.finditer(text):
            name = tag.group(1).lower()
            attrs = tag.group(2) or ""
            if name in _DANGEROUS_TAGS and not tag.group(0).lstrip("< ").startswith("/"):
                return "html"
            for attr in _ATTR.finditer(" " + attrs):
                attr_name = attr.group(1).lower()
                value = attr.group(2) or ""
                if attr_name.startswith("on") and len(attr_name) > 4:
                    return "html"
                if value and (_scheme(value) or _ENTITY_EXPR.search(value)):
                    return "html"
                if name == "meta" and attr_name == "http-equiv" and "refresh" in value.lower():
                    return "html"
    if _scheme(text):
        return "js-url"
    if _BREAKOUT.search(text):
        return "js-breakout"
    return None
