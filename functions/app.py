"""Chalice entry point: `chalice local`, `chalice package` and Lambda all load `app` from here."""

from revgov.edge.api import app  # noqa: F401
from revgov.edge.handlers import flush_outbox, log_event  # noqa: F401  (event and scheduled handlers)
