"""A partner's whole road (issue 19), as one test that follows ``docs/tutorial.md`` to the
letter. It generates a plugin with ``opiekun plugins new`` and writes every file the
tutorial shows into it. It then installs Opiekun (a wheel built from this checkout) and the
plugin into a new virtual environment, writes the plugin's next revision there with
``opiekun plugins migration`` and runs the plugin's own tests with ``opiekun.testing``.
Then it runs the product with the plugin on (``opiekun serve``, and an ``opiekun worker`` when
the run has a Redis), over HTTP, as its users would:

- visits and a won deal score a company (a job), and the companies filter by the score;
- the history records the visits;
- offboarding moves them and its undo gives them back;
- deleting a company deletes its visits;
- uninstalling the plugin leaves none of its tables.

The new environment borrows the third-party libraries of the running one (a ``.pth`` to a
folder of links, leaving out Opiekun and the example plugin), so it downloads nothing; Opiekun
and the plugin are pip-installed into it like any package."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

from redis import Redis

from opiekun.testing.apps import TEST_REDIS_URL
from tests.core.test_partner_plugin_lifecycle import own_redis_url
from tests.core.test_plugin_lifecycle import operator_environment, query, revisions
from tests.core.test_scaffold import partner_lint

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"
#: a code block of the tutorial that is (part of) a file: ```python title="path (how)"
BLOCK = re.compile(r'^```\w+ title="(?P<title>[^"]+)"\n(?P<text>.*?)^```$', re.S | re.M)
MIGRATION = "replace upgrade and downgrade"
PASSWORD = "Tajne-Hasło-2026"


def tutorial_blocks() -> list[tuple[str, str, str]]:
    """``(path, how, text)`` of every file block of the tutorial, in its order."""
    blocks = []
    for match in BLOCK.finditer(TUTORIAL.read_text(encoding="utf-8")):
        path, _, how = match["title"].partition(" (")
        blocks.append((path, how.rstrip(")"), match["text"]))
    return blocks


def apply_block(package: Path, path: str, how: str, text: str) -> None:
    """Write one block into the plugin's folder as the tutorial says: a whole file, added at
    the end, a function replaced, or a revision's upgrade and downgrade filled in."""
    [target] = package.glob(path) if "*" in path else [package / path]
    if not how:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return
    current = target.read_text(encoding="utf-8")
    if how == "add at the end":
        target.write_text(current.rstrip("\n") + "\n\n\n" + text, encoding="utf-8")
    elif how == MIGRATION:
        target.write_text(current[: current.index("def upgrade():")] + text, encoding="utf-8")
    elif how.startswith("replace "):
        function = how.split()[1]
        start = current.index(f"@hookimpl\ndef {function}(")
        end = current.find("\n\n\n", start)
        target.write_text(current[:start] + text.rstrip("\n") + (current[end:] if end >= 0 else "\n"), encoding="utf-8")
    else:
        raise AssertionError(f"the tutorial's block {path!r} says {how!r}: say how to apply it here")


# --- a new environment ------------------------------------------------------------------------


def run(*command, cwd: Path | None = None, env: dict | None = None, timeout: int = 300, input_text: str | None = None):
    finished = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input_text,
    )
    assert finished.returncode == 0, f"{command}\n{finished.stdout}\n{finished.stderr}"
    return finished


def borrowed_libraries(folder: Path) -> Path:
    """A folder of links to the running environment's third-party libraries, without
    Opiekun, the example plugin and the editable installs' hooks."""
    folder.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        name = entry.name.lower()
        if name.startswith(("opiekun", "__editable__", "_opiekun")) or name.endswith(".pth") or name == "__pycache__":
            continue
        (folder / entry.name).symlink_to(entry)
    return folder


def new_environment(folder: Path) -> Path:
    """A new virtualenv with Opiekun pip-installed from a wheel of this checkout; returns
    its ``bin`` folder."""
    run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", folder / "venv")
    python = folder / "venv" / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    (Path(purelib) / "borrowed.pth").write_text(str(borrowed_libraries(folder / "libraries")) + "\n")

    source = folder / "opiekun-source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for part in ("core", "plugins"):
        shutil.copytree(ROOT / part, source / part, ignore=ignore)
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, source / part)
    run(
        sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", folder / "wheels", source
    )
    [wheel] = (folder / "wheels").glob("opiekun-*.whl")
    run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel)
    return python.parent


def environment_of(database_url: str, instance: Path, **more: str) -> dict[str, str]:
    """An operator's environment (:func:`operator_environment`) for the new virtualenv:
    nothing of this interpreter's own Python settings."""
    env = operator_environment(database_url, instance, **more)
    return {key: value for key, value in env.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}


# --- the product over HTTP ---------------------------------------------------------------------


class Http:
    """The API as an integration calls it: JSON over HTTP with a bearer token."""

    def __init__(self, base: str):
        self.base = base

    def call(self, method: str, path: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.base}/api/v1{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def ok(self, method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
        status, answer = self.call(method, path, token, body)
        assert status in (200, 201, 202, 204), (method, path, status, answer)
        return answer

    def token(self, email: str) -> str:
        return self.ok("POST", "/auth/token", body={"email": email, "password": PASSWORD})["token"]

    def eventually(self, path: str, token: str, until, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while not until(answer := self.ok("GET", path, token)):
            assert time.monotonic() < deadline, answer
            time.sleep(0.1)
        return answer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def in_background(bin_folder: Path, env: dict, folder: Path, *command: str) -> subprocess.Popen:
    """``opiekun <command>`` running in the background, its output in ``<command>.log``."""
    log = (folder / f"{command[0]}.log").open("w")
    return subprocess.Popen([str(bin_folder / "opiekun"), *command], env=env, cwd=folder, stdout=log, stderr=log)


def serving(bin_folder: Path, env: dict, folder: Path) -> tuple[subprocess.Popen, Http]:
    """``opiekun serve`` on a free port, once it answers."""
    port = free_port()
    server = in_background(bin_folder, env, folder, "serve", "--port", str(port), "--workers", "2")
    http = Http(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{http.base}/login", timeout=2):
                return server, http
        except (urllib.error.URLError, ConnectionError):
            assert server.poll() is None, (folder / "serve.log").read_text()
            assert time.monotonic() < deadline, (folder / "serve.log").read_text()
            time.sleep(0.2)


# --- the test ----------------------------------------------------------------------------------------


def test_the_tutorial_holds_every_step_it_names():
    """Every block says where it goes; the tutorial shows whole files and the hooks it adds."""
    blocks = tutorial_blocks()
    paths = {path for path, _how, _text in blocks}
    assert {"opiekun_visits/models.py", "opiekun_visits/score.py", "opiekun_visits/__init__.py"} <= paths
    assert [how for _path, how, _text in blocks if how == MIGRATION] == [MIGRATION]
    added = next(text for path, how, text in blocks if how == "add at the end")
    for hook in ("opiekun_record_fields", "opiekun_deal_closed", "opiekun_records_changed", "opiekun_record_deleting"):
        assert f"def {hook}(" in added, hook


def test_a_partner_builds_the_visits_plugin_from_the_tutorial(tmp_path, fresh_database):
    timings: dict[str, float] = {}
    started = time.monotonic()
    scaffold_env = environment_of(f"sqlite:///{tmp_path / 'scaffold.db'}", tmp_path)
    package = tmp_path / "opiekun-visits"
    run(Path(sys.executable).parent / "opiekun", "plugins", "new", "visits", "--directory", package, env=scaffold_env)
    blocks = tutorial_blocks()
    for path, how, text in blocks:
        if how != MIGRATION:
            apply_block(package, path, how, text)
    run(sys.executable, "-m", "babel.messages.frontend", "compile", "-d", "opiekun_visits/translations", cwd=package)

    bin_folder = new_environment(tmp_path)
    run(
        bin_folder / "python",
        "-m",
        "pip",
        "install",
        "-q",
        "--no-deps",
        "--no-index",
        "--no-build-isolation",
        "-e",
        package,
    )
    timings["install"] = time.monotonic() - started

    url = fresh_database.url()
    # production's shape when the run has a Redis: jobs on an rq worker, else in-process
    redis = {"OPIEKUN_REDIS_URL": own_redis_url()} if TEST_REDIS_URL else {}
    if redis:
        Redis.from_url(redis["OPIEKUN_REDIS_URL"]).flushdb()
    env = environment_of(url, tmp_path / "instance", **redis)
    (tmp_path / "instance").mkdir()
    written = run(
        bin_folder / "opiekun", "plugins", "migration", "visits", "-m", "visits at companies, and scores", env=env
    )
    assert "visits_0002" in written.stdout, written.stdout
    [migration] = [block for block in blocks if block[1] == MIGRATION]
    apply_block(package, *migration)

    assert partner_lint(package) == "", (
        "the tutorial's code and the generated code are clean as the partner's ruff sees them"
    )
    tests_started = time.monotonic()
    test_env = {**env, **{key: value for key, value in os.environ.items() if key == "OPIEKUN_TEST_DATABASE_URL"}}
    own_tests = run(bin_folder / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=package, env=test_env)
    timings["its tests"] = time.monotonic() - tests_started
    assert re.search(r"\b10 passed\b", own_tests.stdout), own_tests.stdout

    initialised = run(bin_folder / "opiekun", "init", env=env)
    assert "visits_0002" in revisions(url), initialised.stdout
    run(bin_folder / "opiekun", "create-admin", "--email", "admin@firma.example", "--password", PASSWORD, env=env)
    processes = [in_background(bin_folder, env, tmp_path, "worker")] if redis else []
    server, http = serving(bin_folder, env, tmp_path)
    processes.append(server)
    try:
        use_the_product(http)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)

    uninstalled = run(
        bin_folder / "opiekun",
        "plugins",
        "uninstall",
        "visits",
        "--yes",
        env={**env, "OPIEKUN_PLUGINS_DISABLED": "visits"},
    )
    assert "plugin visits uninstalled" in uninstalled.stdout, uninstalled.stdout
    tables = {name for (name,) in query(url, TABLES_SQL[url.split(":", 1)[0]])}
    assert not {"visits", "visit_scores"} & tables, "no table left behind"
    assert not any(revision.startswith("visits_") for revision in revisions(url))
    run(bin_folder / "opiekun", "init", env={**env, "OPIEKUN_PLUGINS_DISABLED": "visits"})
    timings["all"] = time.monotonic() - started
    print("partner road:", {step: f"{seconds:.1f} s" for step, seconds in timings.items()})


TABLES_SQL = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
}


def use_the_product(http: Http) -> None:
    """What the tutorial promises, over HTTP: score, filter, history, offboarding and its
    undo, the delete rule."""
    admin = http.token("admin@firma.example")
    users = {
        key: http.ok("POST", "/users", admin, {"email": f"{key}@firma.example", "name": name, "password": PASSWORD})
        for key, name in (("seller", "Stefan Sprzedawca"), ("colleague", "Olga Inna"))
    }
    seller = http.token("seller@firma.example")

    company = http.ok("POST", "/companies", seller, {"name": "Piekarnia Kłos"})
    visits = [
        http.ok("POST", "/visits", seller, {"name": name, "company_id": company["id"]})
        for name in ("Pierwsza rozmowa", "Oferta")
    ]
    status, refused = http.call("POST", "/visits", seller, {"name": "Nigdzie", "company_id": 999_999})
    assert status == 422 and "company_id" in refused["error"]["fields"]
    pipeline = http.ok("GET", "/pipelines", seller)["items"][0]
    deal = http.ok(
        "POST", "/deals", seller, {"name": "Piece", "company_id": company["id"], "pipeline_id": pipeline["id"]}
    )
    http.ok("POST", f"/deals/{deal['id']}/win", seller)
    http.eventually(f"/companies/{company['id']}", seller, lambda answer: answer["visit_score"] == 45)
    scored = http.ok("GET", "/companies?visit_score_min=40", seller)["items"]
    assert [item["id"] for item in scored] == [company["id"]]

    history = http.ok("GET", "/audit?object_type=visit&operation=create", admin)["items"]
    assert sorted(entry["object_id"] for entry in history) == sorted(visit["id"] for visit in visits)

    http.ok("PATCH", f"/users/{users['seller']['id']}", admin, {"status": "departed"})
    started = http.ok(
        "POST",
        "/offboarding/transfers",
        admin,
        {"from_user_id": users["seller"]["id"], "to_user_id": users["colleague"]["id"]},
    )
    done = http.eventually(f"/offboarding/transfers/{started['id']}", admin, lambda state: state["status"] == "done")
    assert done["counts"]["visit"] == {"owner": 2}, done["counts"]
    assert {http.ok("GET", f"/visits/{visit['id']}", admin)["owner_id"] for visit in visits} == {
        users["colleague"]["id"]
    }
    http.ok("POST", f"/offboarding/transfers/{started['id']}/undo", admin)
    http.eventually(f"/visits/{visits[0]['id']}", admin, lambda visit: visit["owner_id"] == users["seller"]["id"])
    assert http.ok("GET", f"/visits/{visits[1]['id']}", admin)["owner_id"] == users["seller"]["id"]

    assert http.call("DELETE", f"/companies/{company['id']}", admin)[0] == 204
    assert [http.call("GET", f"/visits/{visit['id']}", admin)[0] for visit in visits] == [404, 404]
    deleted = http.ok("GET", "/audit?object_type=visit&operation=delete", admin)["items"]
    assert sorted(entry["object_id"] for entry in deleted) == sorted(visit["id"] for visit in visits)
