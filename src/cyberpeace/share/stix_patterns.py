"""The structure of STIX patterns (STIX 2.1 section 9): balanced, well-formed, checked fast.

A hand-written recursive-descent parser over the grammar of section 9.3: observation expressions
``[ ... ]`` joined by AND, OR and FOLLOWEDBY, each optionally qualified (WITHIN n SECONDS,
REPEATS n TIMES, START t STOP t; section 9.3.3); inside the brackets comparison expressions of
object paths (``type:property.path[*]``, section 9.4) against literals with the operators of
section 9.5, joined by AND and OR, grouped with parentheses, negated with NOT. It answers
whether a pattern is well-formed and why not; it does not evaluate patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>[bh]?'(?:[^'\\]|\\.)*')
  | (?P<stamp>t'[^']*')
  | (?P<number>[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<op><=|>=|!=|=|<|>)
  | (?P<punct>[\[\](),])
  | (?P<word>[A-Za-z][A-Za-z0-9_-]*(?::[A-Za-z0-9_.'\[\]*-]+)?)
    """,
    re.VERBOSE,
)
_PATH = re.compile(
    r"^[a-z0-9][a-z0-9-]*[a-z0-9]:"  # the object type (section 9.4)
    r"(?:[A-Za-z0-9_-]+|'[^']*')"
    r"(?:\.(?:[A-Za-z0-9_-]+|'[^']*')|\[(?:\*|\d+)\])*$"
)
_STAMP = re.compile(r"^t'\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z'$")
_KEYWORDS = frozenset(
    {
        "AND",
        "OR",
        "NOT",
        "FOLLOWEDBY",
        "LIKE",
        "MATCHES",
        "ISSUBSET",
        "ISSUPERSET",
        "IN",
        "EXISTS",
        "WITHIN",
        "SECONDS",
        "REPEATS",
        "TIMES",
        "START",
        "STOP",
    }
)
_STRING_OPERATORS = frozenset({"LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"})
MAX_PATTERN = 65536
# The common shape, checked with one regular expression before the full parser is needed:
# observations of comparisons of an object path with =, !=, <, >, <=, >= and a string or number,
# joined by AND / OR, the observations joined by AND / OR / FOLLOWEDBY, no parentheses.
_SIMPLE_PATH = (
    r"[a-z0-9][a-z0-9-]*[a-z0-9]:[A-Za-z0-9_-]+(?:\.(?:[A-Za-z0-9_-]+|'[A-Za-z0-9_-]+'))*"
)
_SIMPLE_TEST = _SIMPLE_PATH + r"\s*(?:<=|>=|!=|=|<|>)\s*(?:'(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?)"
_SIMPLE_OBSERVATION = rf"\[\s*{_SIMPLE_TEST}(?:\s+(?:AND|OR)\s+{_SIMPLE_TEST})*\s*\]"
_SIMPLE = re.compile(
    rf"\s*{_SIMPLE_OBSERVATION}(?:\s+(?:AND|OR|FOLLOWEDBY)\s+{_SIMPLE_OBSERVATION})*\s*"
)


class PatternError(ValueError):
    """A STIX pattern that is not well-formed; the message says where."""


@dataclass(frozen=True)
class _Token:
    kind: str  # string stamp number op punct word keyword bool end
    text: str
    at: int


def _tokens(pattern: str) -> list[_Token]:
    out: list[_Token] = []
    at = 0
    while at < len(pattern):
        match = _TOKEN.match(pattern, at)
        if match is None:
            raise PatternError(f"unexpected character {pattern[at]!r} at offset {at}")
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "word":
            if text in _KEYWORDS:
                kind = "keyword"
            elif text in ("true", "false"):
                kind = "bool"
        if kind != "space":
            out.append(_Token(kind, text, at))
        at = match.end()
    out.append(_Token("end", "", len(pattern)))
    return out


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            found = token.text or "the end of the pattern"
            raise PatternError(f"expected {text!r} at offset {token.at}, found {found!r}")

    def is_keyword(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "keyword" and token.text == word

    # observation expressions: FOLLOWEDBY < OR < AND < qualified observation (section 9.3)
    def observations(self) -> None:
        self.observation_or()
        while self.is_keyword("FOLLOWEDBY"):
            self.take()
            self.observation_or()

    def observation_or(self) -> None:
        self.observation_and()
        while self.is_keyword("OR"):
            self.take()
            self.observation_and()

    def observation_and(self) -> None:
        self.observation()
        while self.is_keyword("AND"):
            self.take()
            self.observation()

    def observation(self) -> None:
        token = self.take()
        if token.text == "[":
            self.comparison_or()
            self.expect("]")
        elif token.text == "(":
            self.observations()
            self.expect(")")
        else:
            found = token.text or "the end of the pattern"
            raise PatternError(f"expected '[' or '(' at offset {token.at}, found {found!r}")
        while self.peek().kind == "keyword" and self.peek().text in ("WITHIN", "REPEATS", "START"):
            self.qualifier()

    def qualifier(self) -> None:
        word = self.take()
        if word.text == "START":
            self.literal("stamp", "a t'...' timestamp")
            self.expect("STOP")
            self.literal("stamp", "a t'...' timestamp")
            return
        number = self.literal("number", "a number")
        if word.text == "REPEATS" and not number.text.isdigit():
            raise PatternError(f"REPEATS needs a positive integer at offset {number.at}")
        self.expect("SECONDS" if word.text == "WITHIN" else "TIMES")

    def literal(self, kind: str, what: str) -> _Token:
        token = self.take()
        if token.kind != kind:
            found = token.text or "the end of the pattern"
            raise PatternError(f"expected {what} at offset {token.at}, found {found!r}")
        if kind == "stamp" and not _STAMP.match(token.text):
            raise PatternError(f"malformed timestamp {token.text} at offset {token.at}")
        return token

    # comparison expressions inside one observation: OR < AND < test (section 9.5)
    def comparison_or(self) -> None:
        self.comparison_and()
        while self.is_keyword("OR"):
            self.take()
            self.comparison_and()

    def comparison_and(self) -> None:
        self.test()
        while self.is_keyword("AND"):
            self.take()
            self.test()

    def test(self) -> None:
        token = self.peek()
        if token.text == "(":
            self.take()
            self.comparison_or()
            self.expect(")")
            return
        if self.is_keyword("EXISTS"):
            self.take()
            self.path()
            return
        self.path()
        if self.is_keyword("NOT"):
            self.take()
        operator = self.take()
        if operator.kind == "op":
            self.value(allow_set=False)
        elif operator.kind == "keyword" and operator.text in _STRING_OPERATORS:
            self.literal("string", "a string")
        elif operator.kind == "keyword" and operator.text == "IN":
            self.value(allow_set=True)
        else:
            found = operator.text or "the end of the pattern"
            raise PatternError(
                f"expected a comparison operator at offset {operator.at}, found {found!r}"
            )

    def path(self) -> None:
        token = self.take()
        if token.kind != "word" or not _PATH.match(token.text):
            found = token.text or "the end of the pattern"
            raise PatternError(f"expected an object path at offset {token.at}, found {found!r}")

    def value(self, *, allow_set: bool) -> None:
        token = self.peek()
        if allow_set and token.text == "(":
            self.take()
            self.value(allow_set=False)
            while self.peek().text == ",":
                self.take()
                self.value(allow_set=False)
            self.expect(")")
            return
        token = self.take()
        if token.kind not in ("string", "number", "bool", "stamp"):
            found = token.text or "the end of the pattern"
            raise PatternError(f"expected a literal value at offset {token.at}, found {found!r}")
        if token.kind == "stamp" and not _STAMP.match(token.text):
            raise PatternError(f"malformed timestamp {token.text} at offset {token.at}")


def check_pattern(pattern: str) -> None:
    """Raise PatternError unless ``pattern`` is a well-formed STIX 2.1 pattern (section 9)."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"pattern longer than {MAX_PATTERN} characters")
    if _SIMPLE.fullmatch(pattern):
        return
    parser = _Parser(_tokens(pattern))
    parser.observations()
    rest = parser.peek()
    if rest.kind != "end":
        raise PatternError(f"unexpected {rest.text!r} at offset {rest.at} after a complete pattern")
