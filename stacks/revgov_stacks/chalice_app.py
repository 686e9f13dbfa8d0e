"""The Chalice app as the stacks see it: its routes, its authorizers and its plain Lambda handlers.

Importing `revgov.edge.handlers` registers the `@app.lambda_function` handlers on the same `app` object that
`functions/app.py` exposes to Lambda; handler strings (`app.<name>`) are Chalice's own.

Operator routes (operations whose roles are exactly {operator} in `revgov.edge.registry`) are served by a function of
their own, the only one with broad table access; every other route goes to the tenant-scoped API function.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalice import Chalice

API_HANDLER = "app.app"  # Chalice's API entry point: the `app` object in functions/app.py


@dataclass(frozen=True)
class ChaliceHandlers:
    app: Chalice
    authorizers: dict[str, str]  # authorizer name -> handler string
    functions: dict[str, str]  # @app.lambda_function name -> handler string
    operator_routes: frozenset[tuple[str, str]]  # (path, METHOD) of the operator-only operations


def load() -> ChaliceHandlers:
    from revgov.domain.access import Role
    from revgov.edge import handlers  # noqa: F401  (registers the plain Lambda handlers)
    from revgov.edge.api import app
    from revgov.edge.registry import OPERATIONS

    return ChaliceHandlers(
        app=app,
        authorizers={auth.name: auth.handler_string for auth in app.builtin_auth_handlers},
        functions={fn.name: fn.handler_string for fn in app.pure_lambda_functions},
        operator_routes=frozenset(
            (op.path, op.method.upper()) for op in OPERATIONS if op.roles == frozenset({Role.OPERATOR})
        ),
    )
