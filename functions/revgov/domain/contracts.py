"""Contracts as clauses: `### PA-4.2 Title` headings split a Markdown agreement into citable clauses."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER = re.compile(r"^(Document|Version|Effective):\s*(\S.*)$", re.MULTILINE)
_CLAUSE = re.compile(r"^### ([A-Z]{2,5}-[0-9]+(?:\.[0-9]+)*) (.+)$", re.MULTILINE)
_TITLE = re.compile(r"^# (.+)$", re.MULTILINE)
_PARTNER_HEADER = re.compile(r"^Partner:\s*(ptr_[0-9A-HJKMNP-TV-Z]{26})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Clause:
    clause_id: str
    title: str
    text: str
    document: str


@dataclass(frozen=True)
class Contract:
    document: str
    title: str
    version: str
    effective: str
    clauses: tuple[Clause, ...]

    def clause_ids(self) -> set[str]:
        return {c.clause_id for c in self.clauses}


def parse_contract(markdown: str, *, name: str = "contract") -> Contract:
    """Split an agreement into clauses; a clause's text runs to the next heading of any level."""
    header = dict(_HEADER.findall(markdown.split("\n## ", 1)[0]))
    missing = [k for k in ("Document", "Version", "Effective") if k not in header]
    if missing:
        raise ValueError(f"{name}: missing header line(s) {', '.join(missing)}")
    title = _TITLE.search(markdown)
    matches = list(_CLAUSE.finditer(markdown))
    clauses = []
    seen: set[str] = set()
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(markdown)
        body = markdown[match.end() : end]
        body = re.split(r"^#{1,6} ", body, maxsplit=1, flags=re.MULTILINE)[0].strip()
        clause_id = match.group(1)
        if clause_id in seen:
            raise ValueError(f"{name}: clause {clause_id} appears twice")
        if not clause_id.startswith(header["Document"] + "-"):
            raise ValueError(f"{name}: clause {clause_id} does not belong to document {header['Document']}")
        if not body:
            raise ValueError(f"{name}: clause {clause_id} has no text")
        seen.add(clause_id)
        clauses.append(Clause(clause_id, match.group(2).strip(), body, header["Document"]))
    return Contract(
        header["Document"],
        title.group(1).strip() if title else name,
        header["Version"],
        header["Effective"],
        tuple(clauses),
    )


def partner_of(markdown: str) -> str | None:
    """A `Partner: ptr_…` header line makes a contract that partner's own; without it the text is tenant-wide."""
    header = markdown.split("\n## ", 1)[0]
    match = _PARTNER_HEADER.search(header)
    return match.group(1) if match else None
