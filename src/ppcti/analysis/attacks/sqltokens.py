"""A small SQL tokeniser and grammar rules: the second opinion next to libinjection.

libinjection decides from the *fingerprint* (token types) of the input against a list learnt in 2017;
injections written since (stacked ``ALTER``/``CREATE`` statements, ``WAITFOR DELAY`` between comments,
tautologies written as ``or 'a'='a``) have fingerprints the list lacks. This module tokenises the same
way — strings, numbers, comments, operators, logic operators, SQL keywords, function calls — in the
three contexts an injected value can land in (no quote, inside ``'...'``, inside ``"..."``), and
applies grammar rules that only an injection satisfies:

* ``union``: ``UNION [ALL|DISTINCT] SELECT``;
* ``stacked``: ``;`` followed by a statement keyword (``SELECT``, ``ALTER``, ``SHUTDOWN`` ...);
* ``tautology``: a logic operator followed by ``operand comparison operand`` (or ``BETWEEN``), or by a
  time/side-effect function (``SLEEP(``, ``BENCHMARK(``), or ``EXISTS``;
* ``breakout-comment``: a quote closed by the input and then a comment (``admin'--``);
* ``breakout-clause``: a closed quote or number followed by ``ORDER BY``/``GROUP BY``/``HAVING``/
  ``AND``/``OR`` ... that ends in a comment;
* ``statement``: ``DECLARE @v`` or ``WAITFOR DELAY`` (T-SQL that only an attacker sends);
  ``internals``: names of database internals (``information_schema``, ``xp_cmdshell``, ``UTL_HTTP``,
  ``INTO OUTFILE``).

A value that merely *is* a query (``SELECT name FROM employees``, pasted into a search box) is data:
it cannot leave its string or number context, so it is no injection.

Natural text ("Tom and Jerry", "select a book") satisfies none of them: every rule needs SQL syntax
around the words.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Token(NamedTuple):
    kind: str  # s string, n bareword, 1 number, k keyword, & logic, o operator, c comment, f function,
    # ; semicolon, ( ) , punctuation, v variable
    value: str


_STATEMENTS = frozenset(
    [
        "select",
        "insert",
        "update",
        "delete",
        "drop",
        "alter",
        "create",
        "truncate",
        "shutdown",
        "exec",
        "execute",
        "declare",
        "waitfor",
        "copy",
        "grant",
        "revoke",
        "replace",
        "merge",
        "call",
        "load",
        "set",
        "use",
        "backup",
        "restore",
    ]
)
_KEYWORDS = _STATEMENTS | frozenset(
    [
        "union",
        "all",
        "distinct",
        "from",
        "where",
        "order",
        "group",
        "by",
        "having",
        "limit",
        "offset",
        "into",
        "outfile",
        "dumpfile",
        "like",
        "between",
        "is",
        "null",
        "not",
        "in",
        "case",
        "when",
        "then",
        "else",
        "end",
        "as",
        "table",
        "delay",
        "procedure",
        "values",
        "top",
    ]
)
_LOGIC = frozenset({"and", "or", "xor", "&&", "||", "not"})
#: Functions attackers call for their side effect or to leak data (time delays, file reads, errors).
SIDE_EFFECT_FUNCTIONS = frozenset(
    [
        "sleep",
        "benchmark",
        "pg_sleep",
        "waitfor",
        "load_file",
        "extractvalue",
        "updatexml",
        "gtid_subset",
        "randomblob",
        "dbms_pipe.receive_message",
        "dbms_lock.sleep",
        "utl_http.request",
        "utl_inaddr.get_host_address",
        "xp_cmdshell",
        "xp_dirtree",
    ]
)
_TIME_FUNCS = frozenset(
    [
        "sleep",
        "benchmark",
        "pg_sleep",
        "waitfor",
        "dbms_pipe.receive_message",
        "randomblob",
        "load_file",
        "extractvalue",
        "updatexml",
        "gtid_subset",
        "exp",
        "floor",
        "rand",
        "count",
        "concat",
        "char",
        "chr",
        "ascii",
        "substring",
        "substr",
        "mid",
        "version",
        "user",
        "database",
        "utl_http.request",
        "utl_inaddr.get_host_address",
        "dbms_lock.sleep",
    ]
)
_INTERNALS = re.compile(
    r"information_schema|xp_cmdshell|xp_regread|xp_dirtree|sp_executesql|sp_oacreate|utl_http|"
    r"utl_inaddr|into\s+(out|dump)file|load_file\s*\(|@@version|sysobjects|syscolumns|pg_catalog|"
    r"sqlite_master|mysql\.user|dbms_pipe|dbms_lock",
    re.IGNORECASE,
)
_TOKEN = re.compile(
    r"""
    (?P<c>--[^\n]*|\#[^\n]*|/\*.*?(?:\*/|$))
  | (?P<s>'(?:[^'\\]|\\.|'')*(?:'|$)|"(?:[^"\\]|\\.|"")*(?:"|$)|`[^`]*(?:`|$))
  | (?P<one>0x[0-9a-f]+|\d+(?:\.\d+)?(?:e[+-]?\d+)?)
  | (?P<v>@@?[a-z_][\w$]*)
  | (?P<word>[a-z_][\w$.]*)
  | (?P<o>\|\||&&|<=>|<>|!=|>=|<=|[=<>+\-*/%^|&~!])
  | (?P<p>[;(),:])
    """,
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


def tokenise(text: str) -> list[Token]:
    """Tokens of ``text`` as SQL (whitespace and unknown characters dropped)."""
    out: list[Token] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        value = m.group(0)
        if kind == "one":
            out.append(Token("1", value))
        elif kind == "word":
            low = value.lower()
            if low in _LOGIC:
                out.append(Token("&", low))
            elif low in _KEYWORDS:
                out.append(Token("k", low))
            else:
                out.append(Token("n", low))
        elif kind == "o":
            out.append(Token("&" if value in ("||", "&&") else "o", value))
        elif kind == "p":
            out.append(Token(value, value))
        else:
            out.append(Token(kind or "?", value))
    # a bareword right before "(" is a function call
    for i in range(len(out) - 1):
        if out[i].kind in ("n", "k") and out[i + 1].kind == "(":
            out[i] = Token("f", out[i].value.lower())
    return out


_OPERAND = frozenset("sn1vf)")
_COMPARE = frozenset({"=", "<>", "!=", ">", "<", ">=", "<=", "<=>", "like", "is", "in", "regexp", "rlike"})


def _operand_at(tokens: list[Token], i: int) -> int | None:
    """Index after an operand starting at ``i`` (string, number, name, variable, call, parenthesis)."""
    if i >= len(tokens):
        return None
    kind = tokens[i].kind
    if kind in ("s", "1", "n", "v"):
        j = i + 1
        # 'some'+'thing', 1*2: operators between operands
        while (
            j + 1 < len(tokens)
            and tokens[j].kind == "o"
            and tokens[j].value in "+-*/|"
            and tokens[j + 1].kind in ("s", "1", "n", "v")
        ):
            j += 2
        return j
    if kind in ("f", "("):
        depth = 0
        for j in range(i, len(tokens)):
            if tokens[j].kind == "(":
                depth += 1
            elif tokens[j].kind == ")":
                depth -= 1
                if depth <= 0:
                    return j + 1
        return len(tokens)
    return None


_CONSTANT = frozenset({"s", "1"})


def _tautology(tokens: list[Token], i: int, broke_out: bool) -> bool:
    """``tokens[i]`` is a logic operator: is it followed by a comparison or a side-effect call?

    Outside a quote the comparison must be between constants (``1=1``, ``'a'='a'``): ``size = M`` in a
    search box is a comparison of words, not an injection.
    """
    j = i + 1
    while j < len(tokens) and (tokens[j].kind == "(" or (tokens[j].kind == "&" and tokens[j].value == "not")):
        j += 1
    if j >= len(tokens):
        return False
    if tokens[j].value.lower() == "exists" or (tokens[j].kind == "f" and tokens[j].value in _TIME_FUNCS):
        return True
    end = _operand_at(tokens, j)
    if end is None or end >= len(tokens):
        return False
    op = tokens[end]
    constant = broke_out or (
        tokens[j].kind in _CONSTANT and end + 1 < len(tokens) and tokens[end + 1].kind in _CONSTANT
    )
    if op.kind == "k" and op.value == "between":
        return constant and _operand_at(tokens, end + 1) is not None
    if op.value.lower() in _COMPARE and (op.kind == "o" or op.kind in ("n", "k")):
        return constant and _operand_at(tokens, end + 1) is not None
    return False


_CLAUSES = frozenset({"order", "group", "having", "union", "limit", "procedure", "into", "where"})


def _rules(all_tokens: list[Token], broke_out: bool) -> str | None:
    # comments separate tokens (``UNION/**/SELECT``); only whether the value ends in one matters
    tokens = [t for t in all_tokens if t.kind != "c"]
    ends_in_comment = bool(all_tokens) and all_tokens[-1].kind == "c"
    if broke_out and not tokens and all_tokens:
        return "breakout-comment"
    kinds = [t.kind for t in tokens]
    values = [t.value.lower() for t in tokens]
    for i, (kind, value) in enumerate(zip(kinds, values, strict=True)):
        nxt = values[i + 1] if i + 1 < len(values) else ""
        if value == "union" and (
            nxt == "select" or (nxt in ("all", "distinct") and "select" in values[i + 2 : i + 3])
        ):
            return "union"
        if kind == ";" and nxt in _STATEMENTS:
            return "stacked"
        if (
            kind == "&"
            and _tautology(tokens, i, broke_out)
            and (broke_out or i == 0 or kinds[i - 1] in ("s", "1", ")"))
        ):
            return "tautology"
        if value == "waitfor" and nxt == "delay":
            return "statement"
    if broke_out and tokens:
        if all_tokens[0].kind == "c" or (len(kinds) <= 2 and kinds[0] in ("1", "n", ")") and ends_in_comment):
            return "breakout-comment"
        if values[0] in _CLAUSES and len(values) > 1:
            return "breakout-clause"
    if ends_in_comment and any(v in ("order", "group", "having") for v in values) and len(tokens) > 2:
        return "clause-comment"
    if values[:1] == ["declare"] and len(kinds) > 1 and kinds[1] == "v":
        return "statement"
    return None


#: A value that starts with a number (or closes a parenthesis) may end a number context. Not digits
#: run into letters (``0A``, ``3rd``): SQL reads those as one name, and "0A--" is no injection.
_NUMBER_CONTEXT = re.compile(r"\s*(?:\)|(?>\d+(?:\.\d+)?)(?![a-z_]))", re.IGNORECASE)


def _contexts(text: str) -> list[tuple[str, bool]]:
    """The value as it would sit in the query: bare, and after an opening quote it closes."""
    out = [(text, False)]
    for quote in ("'", '"'):
        if quote in text:
            out.append((quote + text, True))
    if _NUMBER_CONTEXT.match(text):
        out.append((text, True))
    return out


def sql_rule(text: str) -> str | None:
    """Name of the first grammar rule an injection in ``text`` satisfies, or ``None``."""
    if _INTERNALS.search(text):
        return "internals"
    for candidate, broke_out in _contexts(text):
        tokens = tokenise(candidate)
        if broke_out and tokens and tokens[0].kind == "s":
            rest = tokens[1:]
            found = _rules(rest, True)
        else:
            found = _rules(tokens, broke_out)
        if found:
            return found
    return None
