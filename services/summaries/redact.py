"""Personal data out before anything leaves the process.

The customer's name, email, phone and street address (taken from the store order) are replaced by
placeholders wherever they occur in the facts, including free text; then any remaining email- or
phone-looking string is scrubbed. City, state and country stay.

Rules (one alternation, one pass over each string; where two match at the same place the
earlier wins, so whole names and streets go before their parts):
- literals from the order: full names (any case), email (any case), phone (its digits with any
  separators, optional country code), street lines and zip (whole words) → placeholders;
- name parts of three or more letters, in Title or UPPER case (so the word "will" survives a
  customer called Will); names also without accents ("Núñez" as "Nunez");
- any email address; any phone written with a leading "+" or with separators (207-555-0142,
  (207) 555 0142); in notes typed by people, also bare 10–11 digit runs (elsewhere those may be
  tracking numbers).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from checks.model import StoreOrder
from services.summaries.facts import OrderFacts, facts_from_document

CUSTOMER_NAME = "[CUSTOMER_NAME]"
EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
STREET = "[STREET]"

_SEP = r"[\s().\-]*"
EMAIL_PATTERN = r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+"
PHONE_PATTERNS = (
    # international form: +1 207 555 0142, +44 20 7946 0958
    r"(?<![\w+])\+\d(?:[\s().\-]{0,2}\d){7,14}(?!\d)",
    # separated national form: 207-555-0142, (207) 555-0142, 1 207.555.0142
    r"(?<![\w+])(?:1[\s.\-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.\-])\d{3}[\s.\-]\d{4}(?!\w)",
)
BARE_PHONE_PATTERN = r"(?<![\w+])\d{10,11}(?!\w)"
_NAME_TOKEN = re.compile(r"[^\W\d_]{3,}")
_MIN_LITERAL = 3

Rule = tuple[str, str]  # (regex, placeholder)


@dataclass(frozen=True)
class Redactor:
    """Replacement rules for one order, as one alternation applied in a single pass (earlier rules
    win where two match at the same place). `scrub` is for every string, `scrub_free_text` for notes."""

    pattern: re.Pattern[str]
    free_text_pattern: re.Pattern[str]
    placeholders: tuple[str, ...]  # by rule number: group "r<n>"

    @classmethod
    def from_rules(cls, rules: list[Rule], free_text_rules: list[Rule]) -> Redactor:
        every = [*rules, *free_text_rules]
        groups = [f"(?P<r{n}>{regex})" for n, (regex, _) in enumerate(every)]
        return cls(
            pattern=re.compile("|".join(groups[: len(rules)])),
            free_text_pattern=re.compile("|".join(groups)),
            placeholders=tuple(placeholder for _, placeholder in every),
        )

    def scrub(self, text: str) -> str:
        return self.pattern.sub(self._placeholder, text)

    def scrub_free_text(self, text: str) -> str:
        return self.free_text_pattern.sub(self._placeholder, text)

    def _placeholder(self, match: re.Match[str]) -> str:
        return self.placeholders[int((match.lastgroup or "r0")[1:])]


def redactor_for(order: StoreOrder) -> Redactor:
    """The rules for the personal data of `order` (customer and shipping address)."""
    address = order.shipping_address
    given = [order.customer_name, address.name if address else None]
    # Carriers and warehouses often print names without accents: "Núñez" also as "Nunez".
    names = [*given, *(_ascii_folded(n) for n in given)]
    phones = [order.phone, address.phone if address else None]
    streets = [address.address1, address.address2] if address else []
    street_variants = [*streets, *(_without_house_number(s) for s in streets)]
    rules: list[Rule] = []
    # Longest first, so "41 Pier Road" wins over the bare "Pier Road" and full names over their parts.
    rules += [(_words(n), CUSTOMER_NAME) for n in _longest_first(names)]
    rules += [(_words(e), EMAIL) for e in _longest_first([order.email])]
    rules.append((EMAIL_PATTERN, EMAIL))
    rules += [(p, PHONE) for p in (_phone_pattern(x) for x in phones) if p is not None]
    rules += [(p, PHONE) for p in PHONE_PATTERNS]
    rules += [(_words(s), STREET) for s in _longest_first(street_variants)]
    if address and address.zip and len(address.zip.strip()) >= 2:
        rules.append((_words(address.zip), STREET))
    tokens = {t for n in names if n for t in _NAME_TOKEN.findall(n)}
    for token in sorted(tokens, key=lambda t: (-len(t), t)):
        forms = sorted({token.title(), token.upper(), token})
        rules.append((r"(?<!\w)(?:" + "|".join(map(re.escape, forms)) + r")(?!\w)", CUSTOMER_NAME))
    return Redactor.from_rules(rules, [(BARE_PHONE_PATTERN, PHONE)])


def redact_facts(facts: OrderFacts, order: StoreOrder) -> OrderFacts:
    """The same facts with personal data replaced; the fingerprint is of the redacted document."""
    redactor = redactor_for(order)
    document = {key: _walk(value, redactor) for key, value in facts.document.items()}
    document["notes"] = [
        {**note, "text": redactor.scrub_free_text(note["text"])} for note in document.get("notes", [])
    ]
    return facts_from_document(redactor.scrub(facts.order), document)


def _walk(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.scrub(value)
    if isinstance(value, dict):
        return {k: _walk(v, redactor) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v, redactor) for v in value]
    return value


def _longest_first(values: Iterable[str | None]) -> list[str]:
    cleaned = {v.strip() for v in values if v and len(v.strip()) >= _MIN_LITERAL}
    return sorted(cleaned, key=lambda v: (-len(v), v))


def _words(literal: str) -> str:
    """`literal` as whole words, in any case, any run of whitespace matching any other."""
    body = r"\s+".join(re.escape(p) for p in literal.split())
    return r"(?<!\w)(?i:" + body + r")(?!\w)"


def _phone_pattern(phone: str | None) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 7:
        return None
    national = digits[-10:]
    body = _SEP.join(national)
    return r"(?<!\d)(?:\+?\d{1,3}" + _SEP + r")?\(?" + body + r"(?!\d)"


def _ascii_folded(text: str | None) -> str | None:
    if not text:
        return None
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return folded if folded != text else None


def _without_house_number(street: str | None) -> str | None:
    """'41 Pier Road' → 'Pier Road' (people often write the street without the number)."""
    if not street:
        return None
    rest = re.sub(r"^\s*\d+[\w-]*\s+", "", street)
    return rest if rest != street and len(rest.split()) >= 2 else None
