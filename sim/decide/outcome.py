"""The outcome conditions of ``sim discover``: a small grammar, parsed and evaluated here.

An outcome is a condition on the columns of a sweep's runs table, e.g.
``influence_end_japan > 0.03 and `powers.japan.risk_tolerance` < 0.2``. It is parsed by the
recursive-descent parser below and evaluated on the table's numpy columns; no Python is ever
evaluated (no ``eval``, ``exec``, ``pandas.eval`` or ``DataFrame.query``), so
an outcome that tries to import os and run a command is only ever a refused outcome.

Grammar (lowest precedence first)::

    condition  := conjunct (("or" | "|") conjunct)*
    conjunct   := negation (("and" | "&") negation)*
    negation   := ("not" | "~") negation | comparison
    comparison := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)*   (a chain: a < b < c)
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | atom
    atom       := number | column | "(" condition ")"
    column     := a name ([A-Za-z_][A-Za-z0-9_]*) or any text in backticks (`powers.japan.x`)
    number     := 12, 0.5, .5, 1e-3, 2.5E+2

``&``, ``|`` and ``~`` are the same as ``and``, ``or`` and ``not`` (as in pandas' query
syntax, which outcomes were first written in, they bind more loosely than comparisons).
Comparisons give true or false per run; a comparison with NaN (a diverged run's outputs) is
false, except ``!=``, which is true. Arithmetic is on numbers only, logic on conditions only,
and the whole must be a condition.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from sim.errors import SimError

ALLOWED = ("allowed: column names (field paths in backticks), numbers (0.5, 1e-3), "
           "+ - * /, < <= > >= == !=, and or not (also & | ~), parentheses")
"""What an outcome may contain, for every refusal."""

MAX_LENGTH = 2000
"""Longest outcome accepted, in characters (a parser guard, far past any real condition)."""

MAX_DEPTH = 50
"""Deepest nesting of parentheses and operators accepted (keeps the parser off the stack's end)."""

_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/", "(", ")", "&", "|", "~")
_WORDS = {"and": "&", "or": "|", "not": "~"}
_COMPARISONS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
                "==": np.equal, "!=": np.not_equal}
_ARITHMETIC = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}
_FORBIDDEN = {
    "'": "strings are not allowed", '"': "strings are not allowed",
    "@": "Python variables (@name) are not allowed", ".": "attribute access is not allowed "
    "(put a field path in backticks: `powers.japan.visibility`)",
    "[": "subscripts are not allowed", "]": "subscripts are not allowed",
    ":": "lambdas and slices are not allowed", ",": "lists, tuples and calls are not allowed",
    "=": "assignment is not allowed (== compares)", "%": "% is not allowed",
    "^": "^ is not allowed", "{": "sets and dicts are not allowed",
    "}": "sets and dicts are not allowed", ";": "; is not allowed",
}


class OutcomeError(SimError):
    """An outcome that is not a condition of the grammar, or names no column of the table."""


@dataclass(frozen=True)
class Token:
    """One token: its kind ('number', 'column', 'op', 'end'), its text and where it starts."""

    kind: str
    text: str
    position: int


@dataclass(frozen=True)
class Node:
    """A parsed outcome: a function of the columns, and whether it gives numbers or conditions.

    Attributes:
        kind: ``"number"`` or ``"condition"``.
        evaluate: Maps the columns (name to numpy array) to a value per run (or a scalar).
        position: Where the expression starts in the outcome (0-based), for messages.
    """

    kind: str
    evaluate: Callable[[dict[str, np.ndarray]], np.ndarray]
    position: int


class _Parser:
    """Recursive descent over the tokens of one outcome (see the module's grammar)."""

    def __init__(self, text: str, columns: Iterable[str], option: str, source: str):
        self.text, self.option, self.source = text, option, source
        self.columns = [str(c) for c in columns]
        self.known = set(self.columns)
        self.tokens = self._tokenize()
        self.index = 0
        self.depth = 0

    def fail(self, position: int, problem: str) -> OutcomeError:
        """The refusal: option, value, the problem and where it is (1-based), what is allowed."""
        caret = f"\n    {self.text}\n    {' ' * position}^"
        return OutcomeError(f"{self.option} {self.text!r}: {problem} at character {position + 1}"
                            f"{caret}\n  {ALLOWED}")

    def _tokenize(self) -> list[Token]:
        text, tokens, i = self.text, [], 0
        while i < len(text):
            char = text[i]
            if char.isspace():
                i += 1
                continue
            if char == "`":
                end = text.find("`", i + 1)
                if end < 0:
                    raise self.fail(i, "a backtick is not closed")
                name = text[i + 1:end]
                if not name.strip():
                    raise self.fail(i, "empty backticks")
                tokens.append(Token("column", name, i))
                i = end + 1
                continue
            if char == "." and tokens and tokens[-1].kind == "column" and (
                    not text[i - 1].isspace()):
                raise self.fail(i, _FORBIDDEN["."])
            number = _NUMBER.match(text, i)
            if number:
                end = number.end()
                if end < len(text) and (text[end].isalnum() or text[end] in "_."):
                    raise self.fail(i, f"{text[i:end + 1]!r} is not a number")
                tokens.append(Token("number", number.group(), i))
                i = end
                continue
            name = _NAME.match(text, i)
            if name:
                word = name.group()
                tokens.append(Token("op", _WORDS[word], i) if word in _WORDS
                              else Token("column", word, i))
                i = name.end()
                continue
            for op in _OPERATORS:
                if text.startswith(op, i):
                    tokens.append(Token("op", op, i))
                    i += len(op)
                    break
            else:
                problem = _FORBIDDEN.get(char, f"the character {char!r} is not allowed")
                raise self.fail(i, problem)
        tokens.append(Token("end", "", len(text)))
        return tokens

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, *ops: str) -> bool:
        return self.token.kind == "op" and self.token.text in ops

    def parse(self) -> Node:
        node = self.condition()
        if self.token.kind != "end":
            raise self.fail(self.token.position, f"unexpected {self._describe(self.token)}")
        return node

    def _describe(self, token: Token) -> str:
        if token.kind == "end":
            return "end of the outcome"
        if token.kind == "column":
            return f"name {token.text!r}"
        return f"{token.text!r}"

    def _nest(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(self.token.position, f"nested more than {MAX_DEPTH} deep")

    def _need(self, node: Node, kind: str, op: Token) -> None:
        if node.kind != kind:
            what = ("a condition (a comparison such as x > 0.1)" if kind == "condition"
                    else "a number or a column")
            raise self.fail(node.position, f"{op.text!r} needs {what} on each side")

    def condition(self) -> Node:
        return self._logical(self.conjunct, "|", np.logical_or)

    def conjunct(self) -> Node:
        return self._logical(self.negation, "&", np.logical_and)

    def _logical(self, operand, op_text: str, function) -> Node:
        left = operand()
        while self.at(op_text):
            op = self.take()
            right = operand()
            self._need(left, "condition", op)
            self._need(right, "condition", op)
            left = Node("condition", _binary(function, left.evaluate, right.evaluate),
                        left.position)
        return left

    def negation(self) -> Node:
        if self.at("~"):
            op = self.take()
            self._nest()
            inner = self.negation()
            self.depth -= 1
            self._need(inner, "condition", op)
            evaluate = inner.evaluate
            return Node("condition", lambda cols: np.logical_not(evaluate(cols)), op.position)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.sum()
        links = []
        while self.at(*_COMPARISONS):
            op = self.take()
            right = self.sum()
            self._need(left if not links else links[-1][2], "number", op)
            self._need(right, "number", op)
            links.append((op, left if not links else links[-1][2], right))
        if not links:
            return left
        parts = [_binary(_COMPARISONS[op.text], a.evaluate, b.evaluate) for op, a, b in links]

        def chain(cols, parts=parts):
            result = parts[0](cols)
            for part in parts[1:]:
                result = np.logical_and(result, part(cols))
            return result
        return Node("condition", chain, left.position)

    def sum(self) -> Node:
        return self._arithmetic(self.product, ("+", "-"))

    def product(self) -> Node:
        return self._arithmetic(self.unary, ("*", "/"))

    def _arithmetic(self, operand, ops) -> Node:
        left = operand()
        while self.at(*ops):
            op = self.take()
            right = operand()
            self._need(left, "number", op)
            self._need(right, "number", op)
            left = Node("number", _binary(_ARITHMETIC[op.text], left.evaluate, right.evaluate),
                        left.position)
        return left

    def unary(self) -> Node:
        if self.at("-", "+"):
            op = self.take()
            self._nest()
            inner = self.unary()
            self.depth -= 1
            self._need(inner, "number", op)
            if op.text == "+":
                return Node("number", inner.evaluate, op.position)
            evaluate = inner.evaluate
            return Node("number", lambda cols: np.negative(evaluate(cols)), op.position)
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "number":
            value = float(token.text)
            if not np.isfinite(value):
                raise self.fail(token.position, f"{token.text} is not a finite number")
            return Node("number", lambda cols, v=value: v, token.position)
        if token.kind == "column":
            return self._column(token)
        if token.kind == "op" and token.text == "(":
            self._nest()
            inner = self.condition()
            self.depth -= 1
            if not self.at(")"):
                raise self.fail(self.token.position,
                                f"expected ')' to close the '(' at character "
                                f"{token.position + 1}, found {self._describe(self.token)}")
            self.take()
            return Node(inner.kind, inner.evaluate, token.position)
        raise self.fail(token.position, f"expected a number, a column or '(', found "
                                        f"{self._describe(token)}")

    def _column(self, token: Token) -> Node:
        if self.at("("):
            raise self.fail(token.position, f"calls are not allowed ({token.text!r} is "
                                            "followed by '(')")
        name = token.text
        if name not in self.known:
            close = difflib.get_close_matches(name, self.columns, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise self.fail(token.position, f"{self.source} has no column {name!r}{hint} "
                            "(columns: the swept parameters, run_id, sample_id, seed, "
                            "diverged_step and the outputs such as influence_end_<power>)")
        return Node("number", lambda cols, n=name: cols[n], token.position)


def _binary(function, left, right):
    """The elementwise ``function`` of two evaluated operands (numpy warnings off: NaN/inf)."""
    def evaluate(cols):
        with np.errstate(all="ignore"):
            return function(left(cols), right(cols))
    return evaluate


def parse_outcome(text: str, columns: Iterable[str], option: str = "--outcome",
                  source: str = "the runs table") -> Node:
    """Parse an outcome against the names of the columns it may use.

    Args:
        text: The outcome, e.g. ``influence_end_japan > 0.08``.
        columns: The columns of the runs table.
        option: The option the outcome came from, for messages.
        source: The runs file, for messages.

    Returns:
        The parsed condition.

    Raises:
        OutcomeError: Naming the option, the value, the problem and its position, and what is
            allowed; a misspelt column gets the closest names.

    """
    if not text.strip():
        raise OutcomeError(f"{option} is empty; give a condition such as "
                           f"'influence_end_japan > 0.08'\n  {ALLOWED}")
    if len(text) > MAX_LENGTH:
        raise OutcomeError(f"{option} is {len(text):,} characters long; at most {MAX_LENGTH:,}")
    parser = _Parser(text, columns, option, source)
    node = parser.parse()
    if node.kind != "condition":
        raise OutcomeError(f"{option} {text!r} gives numbers, not true or false for each run; "
                           "write a condition such as 'influence_end_japan > 0.08'\n  "
                           f"{ALLOWED}")
    return node


def evaluate_columns(node: Node, columns: dict[str, np.ndarray], n_rows: int) -> np.ndarray:
    """Evaluate a parsed condition on numpy columns: a boolean per row (NaN comparisons false).

    Args:
        node: A condition from :func:`parse_outcome`.
        columns: Column name to a numeric numpy array of ``n_rows`` values.
        n_rows: Rows in the table.

    """
    result = np.asarray(node.evaluate(columns), dtype=bool)
    return np.broadcast_to(result, (n_rows,)).copy()
