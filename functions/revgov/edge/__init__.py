"""The HTTP and event edge: parse, authorize, call a use case, answer. No business rule lives here."""
