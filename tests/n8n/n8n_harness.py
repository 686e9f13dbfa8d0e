"""A real n8n for the workflow tests: the pinned release installed once per machine, the Revgov community node
built from source, and an n8n home per run (credentials and workflows imported with n8n's own CLI).

Nothing here reaches beyond loopback: telemetry, version checks, templates, banners, AI features and the
license server are switched off, and every URL a flow calls comes from the environment set below.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "n8n-workflows"
NODE_PACKAGE = WORKFLOWS / "n8n-nodes-revgov"
RUNTIME_SPEC = Path(__file__).resolve().parent / "runtime"  # package.json (n8n pinned) + package-lock.json
N8N_VERSION = json.loads((RUNTIME_SPEC / "package.json").read_text())["dependencies"]["n8n"]
MIN_NODE = (20, 19)  # n8n 2.8's engines: >=20.19 <=24.x
NPM_FLAGS = ("--no-audit", "--no-fund", "--loglevel=error", "--prefer-offline")


class N8nSetupError(RuntimeError):
    """n8n could not be installed, built or started: the tests fail (never skip) with what went wrong."""


class N8nExitedEarly(Exception):
    """`n8n start` exited before it was ready (started again by N8n.start)."""


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float, what: str) -> str:
    try:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise N8nSetupError(f"{what}: `{' '.join(cmd)}` did not finish in {timeout:.0f} s") from exc
    except FileNotFoundError as exc:
        raise N8nSetupError(f"{what}: `{cmd[0]}` is not installed (n8n needs Node.js >= 20.19 and npm)") from exc
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-4000:]
        raise N8nSetupError(f"{what}: `{' '.join(cmd)}` exited {done.returncode}:\n{tail}")
    return done.stdout


def check_node() -> str:
    version = _run(["node", "--version"], cwd=ROOT, timeout=30, what="Node.js").strip()
    major, minor = (int(x) for x in version.lstrip("v").split(".")[:2])
    if (major, minor) < MIN_NODE:
        raise N8nSetupError(f"n8n {N8N_VERSION} needs Node.js >= 20.19; this machine has {version}")
    return version


def install_dir() -> Path:
    """Once per machine, keyed by the lock file: CI's fresh clones reuse it (an install takes minutes)."""
    if os.environ.get("REVGOV_N8N_DIR"):
        return Path(os.environ["REVGOV_N8N_DIR"])
    spec = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        spec.update((RUNTIME_SPEC / name).read_bytes())
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "revgov" / f"n8n-{N8N_VERSION}-{spec.hexdigest()[:12]}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _failure_note(target: Path) -> Path:
    """Where an install run in the background (see `start_background_install`) leaves why it failed."""
    return target.parent / f".{target.name}.failed"


def ensure_n8n(*, background: bool = False) -> Path:
    """The pinned n8n, installed with `npm ci` from the committed lock file unless already there.

    Waits for an install already under way (the one `start_background_install` started with the test session, or
    another worktree's): the install directory is locked while npm runs. If that background install failed, its
    error is raised here rather than paying for a second attempt; the next run tries again."""
    check_node()
    target = install_dir()
    binary = target / "node_modules" / "n8n" / "bin" / "n8n"
    marker = target / ".installed"
    failed = _failure_note(target)
    with _locked(target.parent / f".{target.name}.lock"):
        if marker.exists() and binary.exists():
            return binary
        if failed.exists() and not background:
            reason = failed.read_text()
            failed.unlink()
            raise N8nSetupError(f"the n8n install started in the background with this test session failed (the "
                                f"next run tries again):\n{reason}")
        failed.unlink(missing_ok=True)
        try:
            _install(target)
        except N8nSetupError as error:
            if background:
                failed.write_text(str(error))
            raise
        marker.write_text(N8N_VERSION)
    return binary


def _install(target: Path) -> None:
    """`npm ci` of the committed lock with `--ignore-scripts` (no install script may download a binary: only the npm
    registry is reachable, and the `xlsx` override, `@e965/xlsx`, keeps that dependency there too), then the one
    native module n8n needs, sqlite3, compiled with node-gyp: against the machine's SQLite when its headers are
    there (seconds), else from the amalgamation sqlite3 ships (a minute or more of one core)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(RUNTIME_SPEC / name, target / name)
    _run(["npm", "ci", "--ignore-scripts", *NPM_FLAGS], cwd=target, timeout=1500, what=f"installing n8n {N8N_VERSION}")
    system_sqlite = ["--sqlite=/usr"] if Path("/usr/include/sqlite3.h").exists() else []
    _run(["npm", "rebuild", "sqlite3", "--build-from-source", *system_sqlite, *NPM_FLAGS], cwd=target,
         env={**os.environ, "JOBS": "max"}, timeout=900, what="building sqlite3 for n8n (node-gyp)")
    installed = json.loads((target / "node_modules" / "n8n" / "package.json").read_text())["version"]
    if installed != N8N_VERSION:
        raise N8nSetupError(f"npm installed n8n {installed}, not the pinned {N8N_VERSION}")


def build_node_package(binary: Path) -> Path:
    """`n8n-nodes-revgov` compiled with the TypeScript and `@types/node` the n8n install carries (pinned in
    tests/n8n/runtime/package.json at the node's own devDependency versions, beside the n8n-workflow n8n brings),
    so no second npm install is needed. Built into the machine's cache, once per source; returns the package."""
    tree = binary.parents[2]  # <install>/node_modules
    digest = hashlib.sha256(str(tree).encode())
    sources = sorted(p for p in NODE_PACKAGE.rglob("*") if p.is_file() and not {"node_modules", "dist"} & set(
        p.relative_to(NODE_PACKAGE).parts))
    for path in sources:
        digest.update(str(path.relative_to(NODE_PACKAGE)).encode() + b"\0" + path.read_bytes())
    built = tree.parent.parent / f"n8n-nodes-revgov-{digest.hexdigest()[:12]}"
    with _locked(built.parent / f".{built.name}.lock"):
        if (built / ".built").exists():
            return built
        shutil.rmtree(built, ignore_errors=True)
        for path in sources:
            (built / path.relative_to(NODE_PACKAGE)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, built / path.relative_to(NODE_PACKAGE))
        (built / "node_modules").symlink_to(tree)  # tsc, @types/node and n8n-workflow resolve as in a normal build
        _run(["npm", "run", "build", "--silent"], cwd=built, timeout=300, what="building n8n-nodes-revgov")
        (built / "node_modules").unlink()
        (built / ".built").write_text("")
    return built


def wants_n8n(args: list[str]) -> bool:
    """Whether a pytest run of these paths (`config.args`) collects the n8n tests."""
    here = Path(__file__).resolve().parent
    paths = [Path(arg.split("::")[0]).resolve() for arg in args] or [ROOT / "tests"]
    return any(path == here or path in here.parents or here in path.parents for path in paths)


def start_background_install() -> Path | None:
    """Install n8n and build the node in a detached process, so the minutes of `npm ci` overlap the other tests;
    `ensure_n8n` waits for it. Returns the log it writes, or None when n8n is already installed."""
    target = install_dir()
    if (target / ".installed").exists():
        return None
    log = target.parent / f"{target.name}.background.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve())],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    return log


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class N8n:
    """One n8n home (SQLite database, credentials, community nodes) and the CLI and server that use it."""

    def __init__(self, binary: Path, home: Path, env: dict[str, str], *, clock_offset_ms: int = 0) -> None:
        self.binary, self.home = binary, home
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {**quiet_environment(home, self.port, clock_offset_ms), **env}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = home / "n8n-server.log"

    def install_node_package(self, package: Path) -> None:
        """As n8n keeps community packages: `$N8N_USER_FOLDER/.n8n/nodes/node_modules/<name>`."""
        target = self.home / ".n8n" / "nodes" / "node_modules" / "n8n-nodes-revgov"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in ("package.json", "index.js"):
            shutil.copy(package / name, target / name)
        shutil.copytree(package / "dist", target / "dist")
        (self.home / ".n8n" / "nodes" / "package.json").write_text(
            json.dumps({"name": "installed-nodes", "private": True, "dependencies": {"n8n-nodes-revgov": "0.1.0"}})
        )

    def cli(self, *args: str, timeout: float = 240) -> str:
        return _run(["node", str(self.binary), *args], cwd=self.home, env=self.env, timeout=timeout,
                    what=f"n8n {args[0]}")

    def execute_batch(self, ids: list[str], snapshots: Path, timeout: float = 300) -> dict[str, Any]:
        """`n8n execute-batch` of the flows' Manual Trigger paths: its JSON report (an execution that fails is
        reported there, with its error, rather than raised) and each node's output under `snapshots`."""
        report = snapshots / "report.json"
        cmd = ["node", str(self.binary), "execute-batch", f"--ids={','.join(ids)}", f"--snapshot={snapshots}",
               f"--output={report}", "--retries=0"]
        done = subprocess.run(cmd, cwd=self.home, env=self.env, capture_output=True, text=True, timeout=timeout,
                              check=False)
        if not report.exists():
            raise N8nSetupError(f"n8n execute-batch wrote no report (exit {done.returncode}):\n"
                                f"{(done.stdout + done.stderr)[-4000:]}")
        result: dict[str, Any] = json.loads(report.read_text())
        return result

    def start(self, timeout: float = 240, *, attempts: int = 3) -> None:
        """Start the server and wait until it is ready. A server that exits during start-up is started again (up to
        `attempts` times, each attempt's log kept beside the last): a clean-clone `make test` once saw `n8n start`
        exit 1 with an empty log while the other xdist worker was busy, and the same clone passed on the next run."""
        for attempt in range(1, attempts + 1):
            try:
                self._start_once(timeout)
                return
            except N8nExitedEarly as exited:
                shutil.copy(self.log, self.log.with_suffix(f".attempt{attempt}.log"))
                if attempt == attempts:
                    raise N8nSetupError(str(exited)) from exited
                time.sleep(2)

    def _start_once(self, timeout: float) -> None:
        log = open(self.log, "wb")
        self.process = subprocess.Popen(
            ["node", str(self.binary), "start"], cwd=self.home, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise N8nExitedEarly(f"n8n start exited {self.process.returncode}:\n{self.server_log()[-4000:]}")
            try:
                if requests.get(f"{self.base_url}/healthz/readiness", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise N8nSetupError(f"n8n did not become ready in {timeout:.0f} s:\n{self.server_log()[-4000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def server_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def post_webhook(self, path: str, body: Any, *, headers: dict[str, str] | None = None,
                     raw: bytes | None = None, timeout: float = 180) -> requests.Response:
        """POST to a production webhook; retried briefly while n8n is still registering the published flows."""
        data = raw if raw is not None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
        deadline = time.monotonic() + 90  # n8n activates published flows after it reports ready
        while True:
            answer = requests.post(f"{self.base_url}/webhook/{path}", data=data, headers=sent, timeout=timeout)
            if answer.status_code != 404 or time.monotonic() > deadline:
                return answer
            time.sleep(0.5)


def _faketime(home: Path, keep: dict[str, str]) -> dict[str, str]:
    """A suite run under libfaketime (see docs/n8n.md) runs n8n on the same clock as Revgov: the flows' "now"
    (signatures, review days, the default quarter) must be the API's. n8n starts its Code-node task runner as `node`
    from PATH with an environment of its own choosing, without libfaketime's variables, so under faketime PATH leads
    to a `node` that sets them first. Without FAKETIME in the environment this does nothing."""
    fake = {k: v for k, v in os.environ.items() if k == "LD_PRELOAD" or k.startswith("FAKETIME")}
    real = shutil.which("node")
    if not fake.get("FAKETIME") or real is None:
        return {}
    shim = home / ".faketime-bin"
    shim.mkdir(exist_ok=True)
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(fake.items()))
    (shim / "node").write_text(f"#!/bin/sh\nexport {exports}\nexec {shlex.quote(real)} \"$@\"\n")
    (shim / "node").chmod(0o755)
    return {**fake, "PATH": f"{shim}{os.pathsep}{keep.get('PATH', '')}"}


def _shifted_clock(home: Path, keep: dict[str, str], offset_ms: int) -> dict[str, str]:
    """n8n on Revgov's clock when the suite runs as of another date (REVGOV_CLOCK_START, tests/clock_support.py):
    `clock_shift.cjs` preloaded into n8n and into the Code-node task runner, which n8n starts as `node` from PATH with
    an environment of its own choosing, so PATH leads to a `node` that preloads it. At offset 0 this does nothing."""
    real = shutil.which("node", path=keep.get("PATH"))
    if not offset_ms or real is None:
        return {}
    shim = home / ".clock-bin"
    shim.mkdir(exist_ok=True)
    preload = Path(__file__).resolve().with_name("clock_shift.cjs")
    (shim / "node").write_text(
        f"#!/bin/sh\nexport REVGOV_CLOCK_OFFSET_MS={int(offset_ms)}\n"
        f"exec {shlex.quote(real)} --require {shlex.quote(str(preload))} \"$@\"\n"
    )
    (shim / "node").chmod(0o755)
    return {"REVGOV_CLOCK_OFFSET_MS": str(int(offset_ms)), "PATH": f"{shim}{os.pathsep}{keep.get('PATH', '')}"}


def quiet_environment(home: Path, port: int, clock_offset_ms: int = 0) -> dict[str, str]:
    """n8n with every phone-home switched off, bound to loopback, env access and `crypto` allowed in flows, on
    Revgov's clock (`clock_offset_ms`: how far the stack's clock is from the real one)."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ", "TMPDIR", "SYSTEMROOT")}
    keep |= _faketime(home, keep)
    keep |= _shifted_clock(home, keep, clock_offset_ms)
    return {
        **keep,
        "N8N_USER_FOLDER": str(home),
        "N8N_ENCRYPTION_KEY": "revgov-test-only-not-a-secret",
        "N8N_DIAGNOSTICS_ENABLED": "false",
        "N8N_DIAGNOSTICS_CONFIG_FRONTEND": "",
        "N8N_DIAGNOSTICS_CONFIG_BACKEND": "",
        "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
        "N8N_TEMPLATES_ENABLED": "false",
        "N8N_PERSONALIZATION_ENABLED": "false",
        "N8N_HIRING_BANNER_ENABLED": "false",
        "N8N_DYNAMIC_BANNERS_ENABLED": "false",
        "N8N_AI_ENABLED": "false",
        "N8N_LICENSE_AUTO_RENEW_ENABLED": "false",
        "N8N_LICENSE_SERVER_URL": "http://127.0.0.1:9/",  # nothing listens: no license call leaves the machine
        "EXTERNAL_FRONTEND_HOOKS_URLS": "",
        "N8N_PUBLIC_API_DISABLED": "true",
        "N8N_COMMUNITY_PACKAGES_ENABLED": "true",
        "N8N_UNVERIFIED_PACKAGES_ENABLED": "false",
        "N8N_BLOCK_ENV_ACCESS_IN_NODE": "false",
        "NODE_FUNCTION_ALLOW_BUILTIN": "crypto",
        "N8N_RUNNERS_BROKER_PORT": str(free_port()),
        "N8N_HOST": "127.0.0.1",
        "N8N_LISTEN_ADDRESS": "127.0.0.1",
        "N8N_PORT": str(port),
        "N8N_PROTOCOL": "http",
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/",
        "N8N_SECURE_COOKIE": "false",
        "N8N_LOG_LEVEL": "warn",
        "N8N_RESTRICT_FILE_ACCESS_TO": str(home),
        "N8N_GRACEFUL_SHUTDOWN_TIMEOUT": "5",
        "DB_TYPE": "sqlite",
    }


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.json"))


def load_workflows() -> dict[str, dict[str, Any]]:
    return {data["id"]: data for data in (json.loads(p.read_text()) for p in workflow_files())}


if __name__ == "__main__":  # the detached install of `start_background_install`
    try:
        build_node_package(ensure_n8n(background=True))
    except N8nSetupError as error:
        print(error, file=sys.stderr)
        sys.exit(1)
