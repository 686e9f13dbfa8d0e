"""Structured JSON logs (powertools Logger) with tenant and correlation ids; secrets never logged."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="revgov")
