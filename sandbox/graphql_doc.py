"""Just enough GraphQL for the simulator: parse an operation into fields, and cost it as Shopify does.

A document is one operation (``query``/``mutation``, optionally named, with variable definitions) or a
bare selection set. Fields may have an alias, arguments (variables, strings, numbers, enums, booleans,
null, lists and objects) and a selection set; inline fragments (``... on Order { }``) are merged into
their parent. Fragment definitions and directives are not served.

Requested cost (Shopify's calculated query cost): a scalar 0, an object 1, a connection (a field with
``first``/``last`` whose selection has ``nodes`` or ``edges``) 2 + size × (1 + its node's fields),
a list with ``first`` size × (1 + its fields), ``pageInfo`` 1; a mutation 10.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)|(?P<name>[_A-Za-z][_0-9A-Za-z]*)'
    r"|(?P<spread>\.\.\.)|(?P<punct>[{}()\[\]:!$,=@]))"
)


class GraphQLSyntaxError(ValueError):
    pass


@dataclass
class Field:
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    children: list[Field] = field(default_factory=list)
    alias: str | None = None

    def child(self, name: str) -> Field | None:
        return next((c for c in self.children if c.name == name), None)

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class Operation:
    kind: str  # query | mutation
    fields: list[Field]


class _Parser:
    def __init__(self, text: str, variables: dict[str, Any]) -> None:
        self.tokens: list[str] = []
        pos, text = 0, re.sub(r"#[^\n]*", "", text)
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None:
                raise GraphQLSyntaxError(f"unexpected character {text[pos:].strip()[:1]!r}")
            self.tokens.append(m.group(m.lastgroup or "punct"))
            pos = m.end()
        self.i, self.variables = 0, variables

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise GraphQLSyntaxError(f"expected {want or 'more'}, found {tok or 'the end'}")
        self.i += 1
        return tok

    def operation(self) -> Operation:
        kind = "query"
        if self.peek() in ("query", "mutation"):
            kind = self.take()
            if self.peek() not in ("{", "("):
                self.take()  # the operation's name
            if self.peek() == "(":
                depth = 0
                while True:  # variable definitions: their types do not matter here
                    tok = self.take()
                    depth += tok == "("
                    depth -= tok == ")"
                    if depth == 0:
                        break
        fields = self.selection()
        if self.peek() is not None:
            raise GraphQLSyntaxError(f"unexpected {self.peek()} after the operation")
        return Operation(kind, fields)

    def selection(self) -> list[Field]:
        self.take("{")
        out: list[Field] = []
        while self.peek() != "}":
            if self.peek() == "...":
                self.take()
                if self.peek() == "on":
                    self.take()
                    self.take()  # the type condition
                else:
                    raise GraphQLSyntaxError("fragment spreads are not served; use an inline fragment")
                out.extend(self.selection())
                continue
            name = self.take()
            alias = None
            if self.peek() == ":":
                self.take()
                alias, name = name, self.take()
            args = self.arguments() if self.peek() == "(" else {}
            children = self.selection() if self.peek() == "{" else []
            out.append(Field(name, args, children, alias))
            if self.peek() == ",":
                self.take()
        self.take("}")
        return out

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        out: dict[str, Any] = {}
        while self.peek() != ")":
            key = self.take()
            self.take(":")
            out[key] = self.value()
            if self.peek() == ",":
                self.take()
        self.take(")")
        return out

    def value(self) -> Any:
        tok = self.take()
        if tok == "$":
            return self.variables.get(self.take())
        if tok.startswith('"'):
            return json.loads(tok)
        if re.fullmatch(r"-?\d+", tok):
            return int(tok)
        if re.fullmatch(r"-?\d+\.\d+", tok):
            return float(tok)
        if tok in ("true", "false"):
            return tok == "true"
        if tok == "null":
            return None
        if tok == "[":
            items = []
            while self.peek() != "]":
                items.append(self.value())
                if self.peek() == ",":
                    self.take()
            self.take("]")
            return items
        if tok == "{":
            obj = {}
            while self.peek() != "}":
                key = self.take()
                self.take(":")
                obj[key] = self.value()
                if self.peek() == ",":
                    self.take()
            self.take("}")
            return obj
        return tok  # an enum value


def parse(text: str, variables: dict[str, Any] | None = None) -> Operation:
    return _Parser(text, variables or {}).operation()


def _fields_cost(fields: list[Field]) -> int:
    return sum(cost(f) for f in fields)


def cost(f: Field) -> int:
    """Requested cost of one field (see the module docstring)."""
    if f.name == "pageInfo":
        return 1
    if not f.children:
        return 0
    size = f.args.get("first") or f.args.get("last")
    inner = f.child("nodes") or (f.child("edges") and f.child("edges").child("node"))  # type: ignore[union-attr]
    if isinstance(size, int) and inner is not None:
        rest = [c for c in f.children if c.name not in ("nodes", "edges")]
        return 2 + size * (1 + _fields_cost(inner.children)) + _fields_cost(rest)
    if isinstance(size, int):
        return size * (1 + _fields_cost(f.children))
    return 1 + _fields_cost(f.children)


def requested_cost(op: Operation) -> int:
    return 10 if op.kind == "mutation" else _fields_cost(op.fields)


def connections(fields: list[Field]) -> tuple[int, int]:
    """(how many connections, deepest nesting of connections) in a bulk query's selection."""
    count, depth = 0, 0
    for f in fields:
        inner = f.child("nodes") or (f.child("edges") and f.child("edges").child("node"))  # type: ignore[union-attr]
        below = inner.children if inner is not None else f.children
        c, d = connections(below)
        is_connection = inner is not None
        count += c + is_connection
        depth = max(depth, d + is_connection)
    return count, depth


__all__ = ["Field", "GraphQLSyntaxError", "Operation", "connections", "cost", "parse", "requested_cost"]
