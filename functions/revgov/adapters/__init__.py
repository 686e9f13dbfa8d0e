"""Adapters: the only code that knows DynamoDB, EventBridge, the clock and the entropy source."""
