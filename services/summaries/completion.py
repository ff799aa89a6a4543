"""Never silent: every discrepancy and every blocked check reaches the operator.

The model's text is checked for each one; whatever it left out is appended as a line
"Also: …" in fixed wording. A discrepancy or check counts as mentioned when

- its code appears (``tracking_mismatch``, ``tracking mismatch``, ``order.shipped``), or
- one of its phrase rules matches: every pattern of the rule matches inside one sentence
  (so "cancelled" in one sentence and "shipped" in another do not make ``cancelled_but_shipped``);
- for a blocked check, additionally some sentence says that something is blocked
  ("blocked", "cannot", "not possible", ...): naming the fact without the consequence is not enough;
- when a code occurs more than once (two carrier exceptions), the text must also name each one's
  tracking number, or the ones it does not name are appended.

Unknown codes count as mentioned only by their code. The appended wording satisfies these rules, so
completing a completed text adds nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from checks.differences import LABELS as DIFFERENCE_LABELS

Rule = tuple[str, ...]  # regexes that must all match one sentence

DISCREPANCY_RULES: dict[str, tuple[Rule, ...]] = {
    "cancelled_but_shipped": (
        (r"\bcancel", r"\bship(s|ped|ment|ments)?\b|\bdispatched\b|\bsent out\b|\bwent out\b"),
        (r"\brefund|\bvoid", r"\bship(s|ped|ment|ments)?\b|\bdispatched\b|\bsent out\b|\bwent out\b"),
    ),
    "cancelled_not_stopped": (
        (
            r"\bcancel|\brefund|\bvoid",
            r"\b(may|might|could|will) (still )?ship\b|\bnot (been )?stopped\b|\bstill open\b",
        ),
        (r"\bcancel", r"\b3pl\b|\bwarehouse\b|\bshipbob\b|\bstop"),
    ),
    "missing_at_3pl": (
        (
            r"\bmissing\b|\bno (matching |matched )?(3pl|warehouse|shipbob) order\b|\bnot (yet )?(at|in|with|"
            r"received by|sent to|reached|arrived at)\b|\bnever (reached|arrived)|\bhas(n't| not) (reached|arrived)",
            r"\b3pl\b|\bwarehouse\b|\bshipbob\b",
        ),
    ),
    "tracking_mismatch": (
        (r"\btracking\b", r"mismatch|\bmatch|\bdiffer|\bdisagree|\bconflict|\binconsistent"),
    ),
    "carrier_exception": (
        (r"\bexception\b",),
        (r"\breturn(ed|ing|s)? to (the )?sender\b",),
        (r"\b(delivery|carrier)\b", r"\bfail"),
    ),
    "stalled_in_transit": (
        (r"\bstall",),
        (r"\bstuck\b",),
        (r"\bno (new )?(carrier )?scans?\b",),
        (r"\bnot (been )?scanned\b",),
        (r"\bno (movement|tracking updates?|carrier updates?)\b",),
        (r"\bhas(n't| not) moved\b",),
    ),
    # The differences beside SPEC §4 (services.differences), which the facts list with them.
    "no_3pl_order": ((r"\b3pl\b|\bwarehouse\b|\bshipbob\b", r"\bno\b|\bmissing\b|\bnot\b|\bnever\b"),),
    "shipped_not_synced": ((r"\bsync",),),
    "store_ahead_of_3pl": ((r"\bstore\b", r"\bfulfilled\b", r"\b3pl\b|\bwarehouse\b|\bshipbob\b"),),
    "shipment_problem": ((r"\bshipment\b", r"\bexception\b|\bon ?hold\b|\bproblem"),),
    "cancel_not_reflected": ((r"\bcancel", r"\b3pl\b|\bwarehouse\b|\bshipbob\b"),),
    "delivery_failed": ((r"\b(delivery|carrier)\b", r"\bfail|\breturn"),),
}
CHECK_RULES: dict[str, tuple[Rule, ...]] = {
    "order.exists": ((r"\bnot found\b|\bnot in the store\b|\bno such order\b|\bdoes(n't| not) exist",),),
    "order.cancelled": ((r"\bcancel",),),
    "order.refunded": ((r"\brefund|\bvoided\b",),),
    "order.shipped": (
        (
            r"\bnot (yet )?(been )?shipped\b|\bnothing\b.{0,30}\bshipped\b|\bhas(n't| not) (yet )?(been )?shipped\b"
            r"|\bunshipped\b|\bno shipments?\b|\bnever shipped\b",
        ),
    ),
    "replacement.exists": ((r"\breplacement", r"\balready\b|\bexist|\bopen\b|\bcreated\b|\bpending\b"),),
    "order.third_party": ((r"third[- ]party|\bvendor",),),
    "inventory.available": (
        (r"\binventory\b|\bstock\b|\bunavailable\b|\bnot available\b|\binsufficient\b",),
    ),
}
BLOCKING = re.compile(
    r"\bblock|\bcannot\b|\bcan't\b|\bcan not\b|\bnot possible\b|\bnot eligible\b|\bineligible\b|\bprevent"
    r"|\bno replacement\b|\bnot allowed\b"
)
LABELS = DIFFERENCE_LABELS  # one wording for the page and the summary
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Mention:
    """Something the operator must read: a discrepancy or a blocked check, with its fixed wording."""

    kind: str  # "discrepancy" | "check"
    code: str
    line: str  # the "Also: …" line appended when the text leaves it out
    anchors: tuple[str, ...] = ()  # tracking numbers that tell apart two findings with the same code


def required_mentions(document: dict[str, Any]) -> list[Mention]:
    """Every discrepancy and every blocked check of a facts document, in document order."""
    tracking_codes = {t["tracking_code"] for t in document.get("carrier", [])}
    mentions = [
        Mention(
            "discrepancy",
            d["code"],
            f"Also: {LABELS.get(d['code'], d['code'])}: {d['detail']}",
            tuple(sorted(c for c in tracking_codes if c and c in d["detail"])),
        )
        for d in document.get("discrepancies", [])
    ]
    mentions += [
        Mention("check", c["code"], f"Also: replacement blocked by {c['code']}: {c['message']}")
        for c in document.get("checks", [])
        if c["level"] == "blocked"
    ]
    return mentions


def missing_mentions(text: str, document: dict[str, Any]) -> list[Mention]:
    mentions = required_mentions(document)
    repeated = {code for code, n in Counter(m.code for m in mentions).items() if n > 1}
    sentences = [_normalize(s) for s in _SENTENCE_END.split(text) if s.strip()]
    whole = _normalize(text)
    says_blocked = BLOCKING.search(whole) is not None
    return [m for m in mentions if not _is_mentioned(m, whole, sentences, says_blocked, m.code in repeated)]


def completion_lines(text: str, document: dict[str, Any]) -> list[str]:
    """The "Also: …" lines to append to `text` so nothing the operator must read is left out."""
    return [m.line for m in missing_mentions(text, document)]


def complete(text: str, document: dict[str, Any]) -> str:
    lines = completion_lines(text, document)
    return text.rstrip() + "".join(f"\n{line}" for line in lines) if lines else text


def _is_mentioned(
    mention: Mention, whole: str, sentences: list[str], says_blocked: bool, repeated: bool
) -> bool:
    if repeated and mention.anchors and not any(a.lower() in whole for a in mention.anchors):
        return False
    code = mention.code.lower()
    if code in whole or code.replace("_", " ") in whole:
        return True
    rules = (DISCREPANCY_RULES if mention.kind == "discrepancy" else CHECK_RULES).get(mention.code, ())
    matched = any(all(re.search(p, s) for p in rule) for rule in rules for s in sentences)
    return matched and (mention.kind == "discrepancy" or says_blocked)


def _normalize(text: str) -> str:
    return (
        text.lower()
        .replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u2010", "-")
        .replace("\u2011", "-")
        .replace("\u2013", "-")
        .replace("\u2014", "-")
    )
