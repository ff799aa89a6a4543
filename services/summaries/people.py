"""The personal data one order knows about, in every form it may be written.

Gathered from the store order (customer, email, phone, shipping and billing address), the customer
record and the 3PL's recipient of the order and of its replacements. Each name comes as written,
accent-folded ("Núñez" → "Nunez") and transliterated ("Müller" → "Mueller"); each street with its
suffix written out or abbreviated ("Pier Road" / "Pier Rd", "Friedrichstraße" / "FRIEDRICHSTR."); each
phone as its digits with the country code, the trunk "0" or neither (parsed with `phonenumbers`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

from checks.model import Address, OrderView, StoreOrder

# German-style transliteration first; NFKD folding handles the rest of the accents.
_TRANSLITERATION = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ß": "ss",
        "ø": "oe",
        "Ø": "Oe",
        "å": "aa",
        "Å": "Aa",
        "æ": "ae",
        "Æ": "Ae",
        "œ": "oe",
        "Œ": "Oe",
        "þ": "th",
        "ð": "d",
        "ł": "l",
        "Ł": "L",
    }
)

# Street suffixes and the ways people abbreviate them (lower case; matched case-insensitively).
STREET_SUFFIXES: dict[str, tuple[str, ...]] = {
    "road": ("road", "rd"),
    "street": ("street", "st", "str"),
    "avenue": ("avenue", "ave", "av"),
    "boulevard": ("boulevard", "blvd"),
    "drive": ("drive", "dr"),
    "lane": ("lane", "ln"),
    "court": ("court", "ct"),
    "place": ("place", "pl"),
    "square": ("square", "sq"),
    "terrace": ("terrace", "ter", "terr"),
    "highway": ("highway", "hwy"),
    "parkway": ("parkway", "pkwy"),
    "circle": ("circle", "cir"),
    "crescent": ("crescent", "cres"),
    "close": ("close", "cl"),
    "way": ("way",),
    "gardens": ("gardens", "gdns"),
    "mount": ("mount", "mt"),
    "north": ("north", "n"),
    "south": ("south", "s"),
    "east": ("east", "e"),
    "west": ("west", "w"),
    "apartment": ("apartment", "apt"),
    "suite": ("suite", "ste"),
    "rue": ("rue",),
    "calle": ("calle", "c"),
    "via": ("via", "v"),
}
# Attached German/Dutch suffixes: "Friedrichstraße", "Friedrichstr.", "Kalverstraat".
ATTACHED_SUFFIXES = ("straße", "strasse", "str", "weg", "platz", "pl", "allee", "gasse", "ring", "straat")
_ATTACHED = re.compile(
    r"^(?P<stem>\w{3,}?)(?P<suffix>straße|strasse|str|weg|platz|allee|gasse|straat)$", re.I
)
_HOUSE_NUMBER = re.compile(r"^\d+[a-z]?(?:[-/]\d+[a-z]?)?$", re.I)
DEFAULT_REGIONS = ("US", "GB", "DE", "FR", "CA", "AU", "NL", "ES", "IT", "IE")
MIN_NAME_PART = 2


def folded(text: str) -> str:
    """Accents dropped: "Núñez" → "Nunez", "Müller" → "Muller"."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def transliterated(text: str) -> str:
    """Umlauts and ligatures spelled out, then folded: "Jürgen Müller" → "Juergen Mueller"."""
    return folded(text.translate(_TRANSLITERATION))


def spellings(text: str) -> set[str]:
    """The text as written, folded and transliterated (case is handled by the patterns)."""
    return {text, folded(text), transliterated(text)} - {""}


@dataclass(frozen=True)
class KnownPeople:
    """Everything personal the order's data names, raw (patterns are built in `redact`)."""

    names: tuple[str, ...]
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    streets: tuple[str, ...]
    zips: tuple[str, ...]
    regions: tuple[str, ...]  # ISO country codes to parse phones in
    item_titles: tuple[tuple[str, str], ...]  # (title, what to write instead)


def _addresses(order: StoreOrder, view: OrderView | None) -> list[Address]:
    found = [order.shipping_address, order.billing_address, order.customer_address]
    if view is not None:
        warehouses = [view.warehouse, *view.replacements]
        found += [w.recipient for w in warehouses if w is not None]
    return [a for a in found if a is not None]


def known_people(source: StoreOrder | OrderView) -> KnownPeople:
    view = source if isinstance(source, OrderView) else None
    order = view.store if view is not None else source
    assert isinstance(order, StoreOrder)
    addresses = _addresses(order, view)
    names = [order.customer_name, *(a.name for a in addresses), *(a.company for a in addresses)]
    emails = [order.email, order.customer_email, *(a.email for a in addresses)]
    phones = [order.phone, *(a.phone for a in addresses)]
    streets = [s for a in addresses for s in (a.address1, a.address2)]
    regions = [*(a.country_code for a in addresses), *DEFAULT_REGIONS]
    titles = {
        (item.title, f"[ITEM {item.sku}]" if item.sku else "[ITEM]")
        for item in order.line_items
        if item.title and item.title.strip()
    }
    return KnownPeople(
        names=_clean(names),
        emails=_clean(emails),
        phones=_clean(phones),
        streets=_clean(streets),
        zips=_clean(a.zip for a in addresses),
        regions=tuple(dict.fromkeys(r.upper() for r in regions if r and len(r) == 2)),
        item_titles=tuple(sorted(titles, key=lambda t: (-len(t[0]), t[0]))),
    )


def _clean(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted({v.strip() for v in values if v and v.strip()}, key=lambda v: (-len(v), v)))


def name_parts(name: str) -> set[str]:
    """The words of a name of two or more letters, in every spelling ("Li", "Núñez", "Nunez")."""
    parts = {p for form in spellings(name) for p in re.findall(r"[^\W\d_]+", form)}
    return {p for p in parts if len(p) >= MIN_NAME_PART}


def phone_digit_forms(phone: str, regions: Iterable[str]) -> set[str]:
    """Digit strings a phone may be written as: with country code, with the trunk 0, national only."""
    digits = re.sub(r"\D", "", phone)
    forms = {digits} if len(digits) >= 6 else set()
    for region in regions:
        try:
            number = phonenumbers.parse(phone, region)
        except phonenumbers.NumberParseException:
            continue
        national = str(number.national_number)
        if len(national) < 6:
            continue
        forms |= {national, f"0{national}", f"{number.country_code}{national}"}
        break  # the first region that parses it (the address's own comes first)
    if len(digits) > 10:
        forms.add(digits[-10:])
    return forms


def street_words(street: str) -> list[str]:
    """The words of a street line without house numbers: '41 Pier Road' → ['Pier', 'Road']."""
    words = re.findall(r"[^\W_]+", street)
    return [w for w in words if not _HOUSE_NUMBER.match(w)]


def suffix_forms(word: str) -> tuple[str, ...] | None:
    """Every way to write a street-suffix word, or None when `word` is not one."""
    lowered = transliterated(word).lower()
    for forms in STREET_SUFFIXES.values():
        if lowered in forms:
            return forms
    return None


def attached_stem(word: str) -> str | None:
    """'Friedrichstraße' → 'Friedrich' (the suffix can then be written any way)."""
    match = _ATTACHED.match(word)
    return match.group("stem") if match else None
