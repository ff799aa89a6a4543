"""Personal data out before anything leaves the process.

The facts are structured (statuses, dates, quantities, SKUs, codes); the free text that still goes
(notes typed by people, and the few source strings kept, such as a scan's location) passes this
redactor. It is built per order from :mod:`services.summaries.people` and knows:

- every name, email, phone and street of the order, its billing address, the customer record and the
  3PL recipient: as written, accent-folded and transliterated, in any case, name parts of two letters
  or more, streets with their suffix written out or abbreviated and with or without the house number;
- item titles, replaced by their SKU (our own check messages quote them);
- any email address, also spelled out ("dana dot reyes at gmail dot com"), and any URL;
- in free text: any phone number of any region (`phonenumbers`), any run of 7 or more digits,
  and anything shaped like a street address ("12 Elm Street", "Hauptstr. 5").

`scrub` is for structured strings (where long digit runs are tracking numbers and must survive);
`scrub_free_text` for notes and other text typed by people. `leaks` says which known items are still
in a text: the summary checks the whole request with it and sends nothing when it finds one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import phonenumbers

from checks.model import OrderView, StoreOrder
from services.summaries.facts import OrderFacts, facts_from_document
from services.summaries.people import (
    KnownPeople,
    attached_stem,
    known_people,
    name_parts,
    phone_digit_forms,
    spellings,
    street_words,
    suffix_forms,
)

CUSTOMER_NAME = "[CUSTOMER_NAME]"
EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
STREET = "[STREET]"
URL = "[URL]"

_SEP = r"[\s().\-/]*"
_DOT = r"(?:\s*[\[(]?\s*dot\s*[\])]?\s*|\s*\.\s*)"
_AT = r"(?:\s*[\[(]?\s*at\s*[\])]?\s*|\s*@\s*)"
_TLD = r"(?:com|net|org|edu|gov|io|co|uk|de|fr|nl|es|it|ie|ca|au|info|biz|me|app|dev|test|example|email|mail)"
EMAIL_PATTERN = r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+"
# "dana dot reyes at gmail dot com", "dana.reyes (at) gmail (dot) com": ends in a known top-level domain.
SPELLED_EMAIL_PATTERN = (
    rf"(?i:(?<!\w)[\w+-]+(?:{_DOT}[\w+-]+)*{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}{_TLD}(?!\w))"
)
URL_PATTERN = (
    r"(?i:(?:[a-z][a-z0-9+.-]*://|www\.)\S+"
    rf"|(?<![\w@.])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.{_TLD}(?![\w])(?:/\S*)?)"
)
PHONE_PATTERNS = (
    # international form: +1 207 555 0142, +44 20 7946 0958, 0049 30 901820
    r"(?<![\w+])(?:\+|00)\d(?:[\s().\-/]{0,2}\d){6,14}(?!\d)",
    # separated national form: 207-555-0142, (207) 555-0142, 1 207.555.0142
    r"(?<![\w+])(?:1[\s.\-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.\-])\d{3}[\s.\-]\d{4}(?!\w)",
)
# Free text only: any 7+ digits, separated or not (elsewhere such runs are tracking numbers).
DIGIT_RUN_PATTERN = r"(?<![\w+])\(?\d(?:[\s().\-/]{0,2}\d){6,}(?!\w)"
_SUFFIX_WORDS = r"(?:street|st|road|rd|avenue|ave|boulevard|blvd|drive|dr|lane|ln|court|ct|place|pl|way|terrace|close|crescent|square|sq|highway|hwy|parkway|pkwy)"
STREET_PATTERNS = (
    # "12 Elm Street", "221B Baker St.", "7 Old Mill Lane"
    rf"(?i:(?<!\w)\d+[a-z]?\s+(?:[^\W\d_]+\s+){{0,3}}{_SUFFIX_WORDS}\.?(?!\w))",
    # "Hauptstraße 5", "Hauptstr. 5", "Am Ring 3"-like German forms with the number after
    r"(?i:(?<!\w)[^\W\d_]{2,}(?:straße|strasse|str\.?|weg|platz|allee|gasse|straat)\s*\d+[a-z]?(?!\w))",
)

MIN_PHONE_DIGITS = 6
Rule = tuple[str, str]  # (regex, placeholder)


@dataclass(frozen=True)
class Redactor:
    """Rules for one order as one alternation applied in a single pass (earlier rules win where two
    match at the same place), plus `phonenumbers` for free text. See the module docstring."""

    pattern: re.Pattern[str]
    free_text_pattern: re.Pattern[str]
    placeholders: tuple[str, ...]  # by rule number: group "r<n>"
    regions: tuple[str, ...] = ()
    known: re.Pattern[str] | None = None  # the order's own items only, for `leaks`

    @classmethod
    def from_rules(
        cls,
        rules: list[Rule],
        free_text_rules: list[Rule],
        *,
        regions: Iterable[str] = (),
        known_rules: list[Rule] | None = None,
    ) -> Redactor:
        every = [*rules, *free_text_rules]
        groups = [f"(?P<r{n}>{regex})" for n, (regex, _) in enumerate(every)]
        known = known_rules or []
        return cls(
            pattern=re.compile("|".join(groups[: len(rules)])),
            free_text_pattern=re.compile("|".join(groups)),
            placeholders=tuple(placeholder for _, placeholder in every),
            regions=tuple(regions),
            known=re.compile("|".join(f"(?:{r})" for r, _ in known)) if known else None,
        )

    def scrub(self, text: str) -> str:
        return self.pattern.sub(self._placeholder, text)

    def scrub_free_text(self, text: str) -> str:
        return self.free_text_pattern.sub(self._placeholder, self._scrub_phones(text))

    def leaks(self, text: str) -> list[str]:
        """The order's own personal items still present in `text` (empty when none)."""
        if self.known is None:
            return []
        return sorted({m.group(0) for m in self.known.finditer(text)})

    def _scrub_phones(self, text: str) -> str:
        """Every number `phonenumbers` finds possible in any of the order's regions (merged spans)."""
        spans = sorted(
            {
                (m.start, m.end)
                for region in self.regions
                for m in phonenumbers.PhoneNumberMatcher(
                    text, region, leniency=phonenumbers.Leniency.POSSIBLE
                )
                if sum(c.isdigit() for c in m.raw_string) >= MIN_PHONE_DIGITS  # not a house number
            }
        )
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        for start, end in reversed(merged):
            text = text[:start] + PHONE + text[end:]
        return text

    def _placeholder(self, match: re.Match[str]) -> str:
        return self.placeholders[int((match.lastgroup or "r0")[1:])]


def redactor_for(source: StoreOrder | OrderView) -> Redactor:
    """The rules for the personal data of an order (a StoreOrder, or a whole OrderView with its 3PL side)."""
    people = known_people(source)
    known: list[Rule] = []
    known += [(_words(form), EMAIL) for email in people.emails for form in sorted(spellings(email))]
    known += [(p, PHONE) for p in _phone_patterns(people)]
    known += [(p, STREET) for street in people.streets for p in _street_patterns(street)]
    known += [(_words(z), STREET) for z in people.zips if len(z) >= 3]
    known += [(_words(form), CUSTOMER_NAME) for name in people.names for form in sorted(spellings(name))]
    known += [(p, CUSTOMER_NAME) for p in _name_part_patterns(people)]
    rules: list[Rule] = [(_literal(title), placeholder) for title, placeholder in people.item_titles]
    # Longest first within each kind, so "41 Pier Road" wins over "Pier Road" and names over their parts.
    rules += [(SPELLED_EMAIL_PATTERN, EMAIL), (EMAIL_PATTERN, EMAIL)]
    rules += [rule for rule in known if rule[1] in (EMAIL, PHONE, STREET)]
    rules += [(p, PHONE) for p in PHONE_PATTERNS]
    rules += [rule for rule in known if rule[1] == CUSTOMER_NAME]
    rules.append((URL_PATTERN, URL))
    free_text: list[Rule] = [(p, STREET) for p in STREET_PATTERNS] + [(DIGIT_RUN_PATTERN, PHONE)]
    return Redactor.from_rules(rules, free_text, regions=people.regions, known_rules=known)


def redact_facts(
    facts: OrderFacts, source: StoreOrder | OrderView, *, redactor: Redactor | None = None
) -> OrderFacts:
    """The same facts with personal data replaced; the fingerprint is of the redacted document.

    Identifiers, dates and the messages our rules write (`STRUCTURED_KEYS`: they carry tracking numbers)
    go through `scrub`; every other string, the notes included, through `scrub_free_text`."""
    redactor = redactor or redactor_for(source)
    document = {key: _walk(value, redactor, key) for key, value in facts.document.items()}
    return facts_from_document(redactor.scrub(facts.order), document)


STRUCTURED_KEYS = frozenset(
    {
        "order", "id", "order_id", "reference_id", "tracking_code", "tracking_numbers", "tracking_number",
        "sku", "code", "level", "at", "created_at", "cancelled_at", "last_update_at", "shipped_at",
        "last_scan_at", "due_at", "evaluated_at",
        "detail", "message", "event", "reason", "replacement_blocked_by", "facts_version",
    }
)  # fmt: skip


def _walk(value: Any, redactor: Redactor, key: str) -> Any:
    if isinstance(value, str):
        return redactor.scrub(value) if key in STRUCTURED_KEYS else redactor.scrub_free_text(value)
    if isinstance(value, dict):
        return {k: _walk(v, redactor, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v, redactor, key) for v in value]
    return value


def _literal(text: str) -> str:
    """`text` exactly, any run of whitespace matching any other, in any case."""
    return r"(?i:" + r"\s+".join(re.escape(p) for p in text.split()) + r")"


def _words(literal: str) -> str:
    """`literal` as whole words, in any case, any run of whitespace or hyphens matching any other."""
    body = r"[\s\-]+".join(re.escape(p) for p in re.split(r"[\s\-]+", literal.strip()) if p)
    return r"(?<!\w)(?i:" + body + r")(?!\w)"


def _phone_patterns(people: KnownPeople) -> list[str]:
    forms = {form for phone in people.phones for form in phone_digit_forms(phone, people.regions)}
    return [
        r"(?<!\d)(?:\+\s?)?" + _SEP.join(form) + r"(?!\d)"
        for form in sorted(forms, key=lambda f: (-len(f), f))
    ]


def _street_word(word: str) -> str:
    """One word of a street, in any spelling, with its suffix in any abbreviation."""
    forms = suffix_forms(word)
    if forms is not None:
        return r"(?:" + "|".join(map(re.escape, forms)) + r")\.?"
    stem = attached_stem(word)
    if stem is not None:
        stems = "|".join(map(re.escape, sorted(spellings(stem), key=len, reverse=True)))
        return r"(?:" + stems + r")\s?(?:straße|strasse|str\.?|weg|platz|allee|gasse|straat)"
    return r"(?:" + "|".join(map(re.escape, sorted(spellings(word), key=len, reverse=True))) + r")"


def _street_patterns(street: str) -> list[str]:
    """The street with any house number before or after, then without it ('Pier Road', 'Pier Rd.')."""
    words = street_words(street)
    if not words:
        return []
    body = r"[\s,.\-]+".join(_street_word(w) for w in words)
    number = r"\d+[a-z]?(?:[-/]\d+[a-z]?)?"
    with_number = rf"(?<!\w)(?i:(?:{number}[\s,]+)?{body}(?:[\s,]+{number})?)(?!\w)"
    patterns = [with_number]
    # Words alone only for a street of two or more words, or one unit word such as "Apt 3B".
    if len(words) == 1 and suffix_forms(words[0]) is None and attached_stem(words[0]) is None:
        patterns = [_words(street)] if len(street.strip()) >= 3 else []
    return patterns


def _name_part_patterns(people: KnownPeople) -> list[str]:
    parts = {p for name in people.names for p in name_parts(name)}
    parts |= {p for email in people.emails for p in re.split(r"[._+\-]", email.split("@")[0]) if len(p) >= 3}
    ordered = sorted(parts, key=lambda p: (-len(p), p.lower()))
    return [r"(?<![^\W_])(?i:" + re.escape(p) + r")(?![^\W_])" for p in ordered]
