"""A tenant's contracts as one set: parsed, clause ids unique across documents, the policy's citations resolved.

The same checks guard every write that can break the link between the policy and the contracts: provisioning a
tenant, uploading, replacing, amending or removing a contract. Pure: the service hands in texts and the policy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .canonical import sha256_hex
from .clause_figures import figure_problems
from .contracts import Contract, parse_contract, partner_of
from .errors import FieldError, MalformedRequest, RuleViolation
from .policy import policy_problems

DOCUMENT_CODE = re.compile(r"^[A-Z]{2,5}$")
MAX_MARKDOWN = 200_000
_HEADING = re.compile(r"^#{1,6} ", re.MULTILINE)


@dataclass(frozen=True)
class ContractText:
    """One contract document as stored: its Markdown and what parsing it found."""

    name: str
    markdown: str
    contract: Contract
    partner_id: str | None

    @property
    def document(self) -> str:
        return self.contract.document

    @property
    def sha256(self) -> str:
        return sha256_hex({"markdown": self.markdown})

    def summary(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "name": self.name,
            "title": self.contract.title,
            "version": self.contract.version,
            "effective": self.contract.effective,
            "partner_id": self.partner_id,
            "clauses": [c.clause_id for c in self.contract.clauses],
            "sha256": self.sha256,
        }


def parse(name: str, markdown: str, *, path: str = "/markdown") -> ContractText:
    """A contract's Markdown parsed, or a 400 naming what is wrong with it."""
    if len(markdown) > MAX_MARKDOWN:
        raise MalformedRequest(f"{name}: a contract is at most {MAX_MARKDOWN} characters",
                               errors=[FieldError(path, "too long")])
    try:
        contract = parse_contract(markdown, name=name)
    except ValueError as invalid:
        raise MalformedRequest(f"{name} is not a contract Revgov can split into clauses: {invalid}",
                               errors=[FieldError(path, str(invalid))]) from invalid
    if not DOCUMENT_CODE.fullmatch(contract.document):
        raise MalformedRequest(f"{name}: the Document code must be 2 to 5 capital letters",
                               errors=[FieldError(path, f"Document: {contract.document}")])
    if not contract.clauses:
        raise MalformedRequest(f"{name}: no clause headings (### {contract.document}-1.1 Title) were found",
                               errors=[FieldError(path, "no clauses")])
    _check_partner_line(name, markdown, path)
    return ContractText(name, markdown, contract, partner_of(markdown))


_PARTNER_LINE = re.compile(r"^[ \t]*partner[ \t]*:.*$", re.MULTILINE | re.IGNORECASE)
_BODY = re.compile(r"^#{2,3} ", re.MULTILINE)  # the first section or clause heading: where the header ends


def _check_partner_line(name: str, markdown: str, path: str) -> None:
    """A `Partner:` line is read only as the header's one `Partner: ptr_…` (`contracts.partner_of`): anything else
    that says Partner would leave the document tenant-wide, every partner's copilot quoting what was meant for one
    (PA-11.1 "including through the contract copilot"; PA-14.1). So every line that starts with `Partner:` (any case)
    must be that one line, once, in the header (before the first `## ` section or `### ` clause: in a clause's text,
    of a document without sections, it would take a tenant-wide contract from every other partner); else a 400
    naming the field, nothing stored."""
    found = list(_PARTNER_LINE.finditer(markdown))
    lines = [m.group(0).strip() for m in found]
    body = _BODY.search(markdown)
    in_header = body is None or found[0].start() < body.start() if found else True
    if not lines or (len(lines) == 1 and in_header and partner_of(markdown) is not None):
        return
    said = "; ".join(lines[:3])
    raise MalformedRequest(
        f"{name}: a partner's own contract names its partner in one header line, `Partner: ptr_…`, before the first "
        f"`## ` section; found {said}, which would publish the document to every partner",
        errors=[FieldError(path, "a Partner: line must be the header's one `Partner: ptr_…` line")],
    )


def set_problems(texts: Sequence[ContractText], policy: Mapping[str, Any] | None, *,
                 figures: bool = False) -> list[FieldError]:  # fmt: skip
    """Two files with one document code, a clause id in two documents, a policy rule citing a clause that no
    contract of the set contains, or (with `figures`: a policy being written) a figure of a rule its clause does not
    write (`clause_figures`)."""
    problems: list[FieldError] = []
    documents: dict[str, str] = {}
    owner: dict[str, str] = {}
    for text in texts:
        if text.document in documents:
            problems.append(FieldError("/contracts", f"document {text.document} is in both {documents[text.document]}"
                                                     f" and {text.name}"))
        documents[text.document] = text.name
        for clause in text.contract.clauses:
            if clause.clause_id in owner and owner[clause.clause_id] != text.document:
                problems.append(FieldError("/contracts", f"clause {clause.clause_id} is in two documents"))
            owner[clause.clause_id] = text.document
    if policy is not None:
        problems.extend(policy_problems(dict(policy), set(owner), _wording(texts) if figures else None))
    return problems


def _wording(texts: Sequence[ContractText]) -> dict[str, str]:
    return {clause.clause_id: clause.text for text in texts for clause in text.contract.clauses}


def contradicted_figures(before: Sequence[ContractText], after: Sequence[ContractText],
                         policy: Mapping[str, Any]) -> list[FieldError]:  # fmt: skip
    """The figures of the policy's rules that the contracts `before` write in the clause each rule cites and `after`
    no longer do, by JSON pointer: what a contract written alone would leave the rules in force contradicting. A
    figure already at odds before the write is the policy's problem (named on its next draft), not the write's."""

    was = {problem.path for problem in figure_problems(policy, _wording(before))}
    return [problem for problem in figure_problems(policy, _wording(after)) if problem.path not in was]


def check_figures_kept(before: Sequence[ContractText], after: Sequence[ContractText], policy: Mapping[str, Any], *,
                       what: str) -> None:
    """Refuse a contract write that would leave a rule in force setting a figure its clause no longer writes: the
    clause wins, so the rule must move with it, in a policy draft carrying the amendment (both take effect at once)."""
    problems = contradicted_figures(before, after, policy)
    if problems:
        raise RuleViolation(
            f"{what} would no longer write figures that rules in force set from it (each named in `errors`): a rule "
            "and the clause it cites must say the same thing. Attach the amendment to a policy draft that moves those "
            "rules (PUT /v1/policy/drafts/{draft_id}/amendment) so both take effect together", errors=problems)


def changed_clauses(before: ContractText | None, after: ContractText) -> list[str]:
    """The clauses `after` keeps from `before` with another title or text, in `after`'s order (a new document, or a
    clause it adds, changes none: no rule can cite a clause that was not there)."""
    was = {c.clause_id: (c.title, c.text) for c in before.contract.clauses} if before else {}
    return [c.clause_id for c in after.contract.clauses if c.clause_id in was and was[c.clause_id] != (c.title, c.text)]


def clause_changes(before: ContractText | None, after: ContractText | None) -> dict[str, list[str]]:
    """What a revision did to the clauses, by id: `added` and `changed` in `after`'s order, `removed` in `before`'s
    (a withdrawn document, `after` None, removes every clause)."""
    was = [c.clause_id for c in before.contract.clauses] if before else []
    now = [c.clause_id for c in after.contract.clauses] if after else []
    return {
        "added": [c for c in now if c not in set(was)],
        "changed": changed_clauses(before, after) if after else [],
        "removed": [c for c in was if c not in set(now)],
    }


def check_set(texts: Sequence[ContractText], policy: Mapping[str, Any] | None, *, what: str,
              figures: bool = False) -> None:  # fmt: skip
    problems = set_problems(texts, policy, figures=figures)
    if problems:
        raise RuleViolation(f"{what}: the contracts and the policy do not fit together", errors=problems)


def amended(markdown: str, document: str, clauses: Sequence[Mapping[str, str]]) -> str:
    """The Markdown with each given clause's heading and text replaced, or appended if the clause is new."""
    out = markdown.rstrip("\n") + "\n"
    for i, clause in enumerate(clauses):
        clause_id, title, text = clause["clause_id"], clause["title"].strip(), clause["text"].strip()
        path = f"/clauses/{i}"
        if not clause_id.startswith(document + "-"):
            raise RuleViolation(f"clause {clause_id} does not belong to document {document}",
                                errors=[FieldError(path + "/clause_id", f"must start with {document}-")])
        if _HEADING.search(text) or "\n" in title:
            raise MalformedRequest("an amended clause's text may not contain Markdown headings",
                                   errors=[FieldError(path + "/text", "contains a heading line")])
        block = f"### {clause_id} {title}\n{text}\n"
        existing = re.search(rf"^### {re.escape(clause_id)} .*$", out, re.MULTILINE)
        if existing is None:
            out = out + "\n" + block
            continue
        following = _HEADING.search(out, existing.end())
        end = following.start() if following else len(out)
        out = out[: existing.start()] + block + ("\n" if following else "") + out[end:]
    return out
