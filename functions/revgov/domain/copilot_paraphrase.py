"""Question phrases that say a contract word in other words (the copilot's eighth round).

A question says "walk away", "logins", "someone has stolen one of our passwords"; the clause says "terminate",
"accounts", "compromised". The contract words are appended to the question (never to a clause, so a clause's own
words and every quote stay as written) before its content words are read (`copilot_reader.read`,
`copilot_subject.subject_things`). Each phrase was seen in a question set; the list is short on purpose.
"""

from __future__ import annotations

import re

_PHRASES = (
    (re.compile(r"\bwalk(?:s|ing)? away\b", re.I), "terminate"),
    (re.compile(r"\bdrag(?:s|ged|ging)? on\b", re.I), "continue"),
    (re.compile(r"\blog-?ins?\b", re.I), "accounts credentials"),
    (re.compile(r"\b(?:stolen|steal|stole|hacked|leaked) (?:\w+ ){0,3}passwords?\b|\bpasswords? (?:\w+ ){0,2}"
                r"(?:stolen|hacked|leaked)\b", re.I), "compromised unauthorized access"),
    (re.compile(r"\banswers? for\b", re.I), "responsible"),
    (re.compile(r"\bpass(?:es|ed)? (?:\w+ ){0,3}on to\b", re.I), "disclose"),
    (re.compile(r"\b(?:got|get|gets|getting) rid of\b", re.I), "destroy delete"),
    (re.compile(r"\b(?:kept|keep|keeps|keeping)\b", re.I), "retain"),
    (re.compile(r"\bmoves? (?:over )?to (?:a|an|the|its) (?:buyer|purchaser|acquirer|successor)\b", re.I), "assign"),
    (re.compile(r"\b(?:gets|get|is|are|being) (?:acquired|bought|taken over)\b", re.I), "acquisition merger"),
    # a right to see something is, in the clause, the other side making it available ("make available a summary")
    (re.compile(r"\b(?:get|gets|allowed|entitled|able) to (?:see|view|look at|review|inspect)\b", re.I),
     "available access"),
    # a lay attempt to get in is, in the clause, an attempt at unauthorized access
    (re.compile(r"\b(?:break|breaks|broke|breaking|hack|hacks|hacking) (?:in|into)\b", re.I),
     "unauthorized access attempts"),
)


def with_paraphrases(question: str) -> str:
    """The question with the contract words of its paraphrases appended ("walk away" → "… terminate")."""
    extra = [words for pattern, words in _PHRASES if pattern.search(question)]
    return f"{question} {' '.join(extra)}" if extra else question
