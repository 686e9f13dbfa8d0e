"""What counts as an e-mail address in free text (copilot prompts, audit records), for masking it.

RFC 5321 §4.1.2: `Mailbox = Local-part "@" ( Domain / address-literal )`, `Domain = sub-domain *("." sub-domain)`,
`sub-domain = Let-dig [Ldh-str]`: a domain needs no dot (§2.3.5 allows a local alias "in a local context"), so
`jdoe@northwind` is an address as much as `jdoe@northwind.example`. Free text also has `@` that is not an address: a
mention (`@jdoe`, no local part), a quantity at a price (`2@5`, `10@USD`). A dotted address is matched as before; one
without a dot only as a whole token (not preceded by a word character or `@`; not followed by one, nor by `-` or `.`
and more of a name) whose local part has a letter and whose domain starts with one.
"""

from __future__ import annotations

import re

_LOCAL = r"[A-Za-z0-9._%+-]+"
_DOTTED = _LOCAL + r"@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
_DOTLESS = (
    r"(?<![\w.%+@-])(?=[A-Za-z0-9._%+-]*[A-Za-z])"  # a whole token whose local part has a letter
    + _LOCAL
    + r"@[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?![\w@]|[.-]\w)"  # one sub-domain, nothing of a name after it
)
EMAIL_ADDRESS = re.compile(f"{_DOTTED}|{_DOTLESS}")
