"""The per-partner audit pointers (`AUDITBYPARTNER#<partner id>`, PA-12.1 / CPA-12.1) checked against the chain.

A pointer is an ordinary item, outside the hash chain: deleting one hides a record from its partner's trail
(`GET /v1/audit?partner_id=`, a partner key's own trail), and adding or editing one shows a partner a record that is
not about it (the list filters a pointer to another partner's record out, but the trail is then wrong). The chain walk
(`ChainWalk`) notes which partner each record names (`NamedRecords`, compact: one small int per record); this module
then judges every pointer of every partner it can find against that (a pointer beyond the records walked, to a record
appended since, is judged by reading that record):

- `missing`: a record names a partner (its sealed `partner_id`) and that partner's index has no pointer to it;
- `other_partner`: a pointer in one partner's index reaches a record about another partner;
- `stray`: a pointer whose key is not its record's seq, that reaches no record of the chain, or a record about no
  partner.

A record sealed before records named their partner has no `partner_id`; its pointer (from the backfill) is judged by
the partner the backfill derives (`read_partner`), and a missing pointer of such a record is not reported here (the
backfill, `revgov maintenance backfill-audit-pointers`, restores those)."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_SHOWN = 100  # problems listed in full; the rest are counted


class NamedRecords:
    """Which partner each record of the chain names, by position (seq 1 is index 0): 0 for none, else a code into
    `partners`. About 4 bytes a record, so a walk of millions of records keeps it."""

    def __init__(self) -> None:
        self.partners: list[str] = [""]
        self._codes: dict[str, int] = {}
        self._by_seq = array("I")

    def add(self, partner_id: str | None) -> None:
        if not partner_id:
            self._by_seq.append(0)
            return
        code = self._codes.get(partner_id)
        if code is None:
            code = self._codes[partner_id] = len(self.partners)
            self.partners.append(partner_id)
        self._by_seq.append(code)

    def code_of(self, partner_id: str) -> int:
        """The partner's code (0: no record names it)."""
        return self._codes.get(partner_id, 0)

    def codes(self) -> array[int]:
        """The code of each record's partner, by position (read only)."""
        return self._by_seq

    def __len__(self) -> int:
        return len(self._by_seq)

    def partner_at(self, seq: int) -> str | None:
        """The partner the record at `seq` names; None when it names none or the chain has no such record."""
        if not 1 <= seq <= len(self._by_seq):
            return None
        return self.partners[self._by_seq[seq - 1]] or None

    def named(self) -> Iterable[tuple[int, str]]:
        """(seq, partner) of every record that names a partner."""
        return ((i + 1, self.partners[code]) for i, code in enumerate(self._by_seq) if code)


@dataclass
class PointerCheck:
    """Judges the pointers, one partner's index after another, against the records the walk named."""

    records: NamedRecords
    # read the record at a seq: (whether the chain holds it, the partner it concerns: its own `partner_id`, or the
    # backfill's partner of a record sealed before records named one); for records the walk did not name
    read_partner: Callable[[int], tuple[bool, str | None]]
    checked: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    found: int = 0
    _pointed: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self._pointed = bytearray(len(self.records) + 1)

    def _problem(self, kind: str, partner_id: str, seq: Any, reason: str) -> None:
        self.found += 1
        if len(self.problems) < MAX_SHOWN:
            self.problems.append({"kind": kind, "partner_id": partner_id, "seq": seq, "reason": reason})

    def index(self, partner_id: str, pointers: Iterable[tuple[str, Any]]) -> None:
        """A partner's index, as (key, the seq it holds): a pointer at its own key to a record naming this partner
        holds (decided here, the common case, at little cost a pointer); any other is judged by `pointer`."""
        code, codes, pointed = self.records.code_of(partner_id), self.records.codes(), self._pointed
        walked = len(codes)
        for key, seq in pointers:
            if code and type(seq) is int and 0 < seq <= walked and codes[seq - 1] == code and key == f"{seq:012d}":
                self.checked += 1
                pointed[seq] = 1
            else:
                self.pointer(partner_id, key, seq)

    def pointer(self, partner_id: str, key: str, seq: Any) -> None:
        """One pointer of `partner_id`'s index: its key and the seq it holds."""
        self.checked += 1
        if type(seq) is not int or key != f"{seq:012d}":
            self._problem("stray", partner_id, seq if type(seq) is int else None,
                          f"pointer {key} does not hold its record's seq (it holds {seq!r})")
            return
        about = self.records.partner_at(seq) if 1 <= seq <= len(self.records) else None
        if about is None:  # a record sealed before records named their partner, or appended after the walk
            held, about = self.read_partner(seq)
            if not held:
                self._problem("stray", partner_id, seq, f"no record {seq} in the chain")
                return
        if about is None:
            self._problem("stray", partner_id, seq, f"record {seq} concerns no partner")
        elif about != partner_id:
            self._problem("other_partner", partner_id, seq, f"record {seq} is about another partner")
        elif self.records.partner_at(seq) == partner_id:
            self._pointed[seq] = 1

    def result(self) -> dict[str, Any]:
        """`{checked, valid, problems, more_problems}`, a missing pointer for every record naming a partner that no
        pointer of that partner reached."""
        for seq, partner_id in self.records.named():
            if not self._pointed[seq]:
                self._problem("missing", partner_id, seq, f"record {seq} names this partner; its index has no pointer")
        return {"checked": self.checked, "valid": self.found == 0, "problems": self.problems,
                "more_problems": self.found - len(self.problems)}
