"""Deal registration, by use case: `register` (eligibility, conflicts, submission order), `review` (channel ops
decides; first approved wins), `extension` (the one extension of PA-5.3), `orders` (an accepted order keeps a
registration, PA-5.3), `queries` (read, list, withdraw), `live` (the registration protecting an opportunity, its
certification hold, what a quote check reads), `backfill` (partner pointers of registrations stored before them) and
`repository` (the collections). The certification-hold sweep is `services.deal_holds`."""

from __future__ import annotations

from .extension import EXTENSION_EFFECT, apply_extension, request_extension
from .live import quote_registrations, registration_for_quote
from .orders import record_order
from .queries import get, list_deals, withdraw
from .register import REVIEW_EFFECT, register
from .repository import DEALS, LOCKS, QUEUES
from .review import apply_review

__all__ = [
    "DEALS",
    "EXTENSION_EFFECT",
    "LOCKS",
    "QUEUES",
    "REVIEW_EFFECT",
    "apply_extension",
    "apply_review",
    "get",
    "list_deals",
    "quote_registrations",
    "record_order",
    "register",
    "registration_for_quote",
    "request_extension",
    "withdraw",
]
