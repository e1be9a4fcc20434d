"""The deployment files (Dockerfile, deploy/compose.yaml, deploy/Caddyfile, the systemd unit):
read as text and checked against each other and against the settings the bot reads.

Nothing is built or started: no Docker daemon runs on these machines, and `docker compose
config` is not relied on.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import http.server
import importlib.util
import json
import re
import shlex
import threading
import tomllib
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import yaml

from bot.config import read_env_file, token_is_valid
from tests.conftest import ROOT
from tests.postgres import free_port

DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
CADDYFILE = DEPLOY / "Caddyfile"
SYSTEMD = DEPLOY / "systemd"
UNIT = SYSTEMD / "lecture-bot@.service"
DOCKERFILE = ROOT / "Dockerfile"

_ENV_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")


# --- what the bot reads -------------------------------------------------------------------

def _is_environment(node: ast.expr) -> bool:
    """`env`, `environ`, `os.environ`, `environment()`: the mappings settings are read from."""
    if isinstance(node, ast.Name):
        return "env" in node.id.lower()
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    if isinstance(node, ast.Call):
        return _is_environment(node.func)
    return False


def _string(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if _ENV_KEY.match(node.value) else None
    return None


def env_keys_read(source: str) -> set[str]:
    """The environment keys a module reads: `env.get("KEY")`, `env["KEY"]`, `os.getenv("KEY")`,
    and helpers handed the environment and a key (`_int(env, "WEBHOOK_PORT", 8443)`)."""
    keys = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and _is_environment(node.value):
            keys.add(_string(node.slice))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("get", "getenv") and node.args \
                    and (func.attr == "getenv" or _is_environment(func.value)):
                keys.add(_string(node.args[0]))
            elif any(_is_environment(arg) for arg in node.args):
                keys.update(_string(arg) for arg in node.args)
    return keys - {None}


def bot_reads() -> set[str]:
    return set().union(*(env_keys_read(path.read_text(encoding="utf-8"))
                         for path in sorted((ROOT / "bot").rglob("*.py"))))


# --- the deployment files -----------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value, variables: dict[str, str]):
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` over parsed YAML."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        name, operator, argument = match.groups()
        given = variables.get(name, "")
        if operator in (":?", "?") and not given:
            raise AssertionError(f"compose stops: {name}: {argument}")
        return given or (argument if operator in (":-", "-") else "")

    return _INTERPOLATION.sub(substitute, value)


def filled_env_example() -> dict[str, str]:
    """deploy/.env.example as an admin fills it in (letters and digits, as it asks)."""
    return {key: value or f"filled{key.replace('_', '').lower()}"
            for key, value in read_env_file(DEPLOY / ".env.example").items()}


def compose() -> dict:
    """The compose file as `docker compose` sees it with a filled-in deploy/.env."""
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return interpolate(raw, filled_env_example())


def bot_services() -> dict[str, dict]:
    """The services built from the repository (every other one runs a published image)."""
    return {name: service for name, service in compose()["services"].items()
            if "build" in service}


def caddy_upstreams() -> list[str]:
    text = CADDYFILE.read_text(encoding="utf-8")
    lines = [line.split() for line in text.splitlines() if line.strip().startswith("reverse_proxy")]
    assert len(lines) == 1, "one reverse_proxy directive"
    return [token for token in lines[0][1:] if token != "{"]


def caddy_webhook_paths() -> set[str]:
    (line,) = re.findall(r"^\s*@webhook\s+path\s+(.+)$", CADDYFILE.read_text(encoding="utf-8"),
                         flags=re.M)
    return set(line.split())


def _volume_mounts(service: dict) -> dict[str, str]:
    """Named volume → target; bind mounts (./x:/y) are left out."""
    mounts = {}
    for entry in service.get("volumes", []):
        source, target, *_ = entry.split(":")
        if not source.startswith((".", "/")):
            mounts[source] = target
    return mounts


def systemd_unit() -> configparser.RawConfigParser:
    class _Repeated(dict):
        """Keeps every value of a key given more than once (EnvironmentFile=), as systemd does;
        configparser hands each value over as a list while it reads."""

        def __setitem__(self, key, value):
            if isinstance(value, list) and key in self:
                self[key].extend(value)
            else:
                super().__setitem__(key, value)

    unit = configparser.RawConfigParser(strict=False, dict_type=_Repeated,
                                        delimiters=("=",), comment_prefixes=("#", ";"))
    unit.optionxform = str  # systemd's keys are case sensitive
    unit.read_string(UNIT.read_text(encoding="utf-8"))
    return unit


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative to the root) out of the build context: a
    pattern excludes what it matches and everything below it; `**/` matches at any depth."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    for pattern in patterns:
        assert not pattern.startswith("!"), "exceptions are not understood by this check"
        if pattern.startswith("**/"):
            candidates = ["/".join(parts[i:n]) for n in range(1, len(parts) + 1)
                          for i in range(n)]
            if any(fnmatch.fnmatchcase(c, pattern[3:]) for c in candidates):
                return True
        elif any(fnmatch.fnmatchcase(prefix, pattern.rstrip("/")) for prefix in prefixes):
            return True
    return False


# --- compose ------------------------------------------------------------------------------

def test_two_instances_build_from_the_repositorys_dockerfile():
    services = bot_services()
    assert set(services) == {"bot1", "bot2"}
    for name, service in services.items():
        build = service["build"]
        context = build if isinstance(build, str) else build["context"]
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile",
                                                                           "Dockerfile")
        assert (DEPLOY / context).resolve() == ROOT, name
        assert (ROOT / dockerfile).resolve() == DOCKERFILE, name
        assert service["command"][0] == "lecture-bot", name


def test_the_instances_share_one_database_folder_and_webhook():
    services = bot_services()
    environments = [service["environment"] for service in services.values()]
    for key in ("BOT_DATABASE_URL", "WEBHOOK_URL", "WEBHOOK_SECRET", "TELEGRAM_BOT_TOKEN",
                "BOT_KNOWLEDGE_DIR"):
        assert len({env[key] for env in environments}) == 1, key

    # The URL names the compose PostgreSQL service, its user and its database.
    url = urlsplit(environments[0]["BOT_DATABASE_URL"])
    postgres = compose()["services"][url.hostname]
    assert url.scheme == "postgresql" and postgres["image"] == "postgres:15"
    assert url.username == postgres["environment"]["POSTGRES_USER"]
    assert url.path.lstrip("/") == postgres["environment"]["POSTGRES_DB"]
    assert url.port == 5432

    # One named volume, mounted at the same place in each, holds the knowledge folder (and
    # the staged uploads in it).
    mounts = [_volume_mounts(service) for service in services.values()]
    assert len(mounts[0]) == 1 and all(m == mounts[0] for m in mounts)
    (volume, target), = mounts[0].items()
    assert volume in compose()["volumes"]
    assert PurePosixPath(environments[0]["BOT_KNOWLEDGE_DIR"]).is_relative_to(target)
    assert volume not in _volume_mounts(postgres)


def test_the_instances_wait_for_a_healthy_postgresql():
    services = compose()["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert any(target == "/var/lib/postgresql/data"
               for target in _volume_mounts(services["postgres"]).values())
    for name, service in bot_services().items():
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name


def test_the_proxy_forwards_to_every_instance_and_only_to_them():
    services = bot_services()
    ports = {name: service["environment"]["WEBHOOK_PORT"] for name, service in services.items()}
    assert len(set(ports.values())) == len(ports), "distinct ports"
    for name, service in services.items():
        # Reachable from the proxy's container, and only on the compose network.
        assert service["environment"]["WEBHOOK_LISTEN"] == "0.0.0.0", name
        assert "ports" not in service, name
    assert sorted(caddy_upstreams()) == sorted(f"{name}:{port}" for name, port in ports.items())

    proxy = compose()["services"]["proxy"]
    assert any(entry.split(":")[:2] == ["./Caddyfile", "/etc/caddy/Caddyfile"]
               for entry in proxy["volumes"])
    assert "PROXY_SITE_ADDRESS" in proxy["environment"]
    assert "{$PROXY_SITE_ADDRESS}" in CADDYFILE.read_text(encoding="utf-8")


def test_the_proxy_forwards_the_path_the_bots_listen_on():
    # run_bot serves WEBHOOK_URL's path; the proxy must forward exactly that path.
    for env_file in (DEPLOY / ".env.example", SYSTEMD / "common.env.example"):
        path = urlsplit(read_env_file(env_file)["WEBHOOK_URL"]).path
        assert {path, path + "/"} == caddy_webhook_paths(), env_file.name


def test_compose_and_the_unit_set_only_settings_the_bot_reads():
    reads = bot_reads()
    assert {"TELEGRAM_BOT_TOKEN", "WEBHOOK_URL", "WEBHOOK_PORT", "BOT_KNOWLEDGE_DIR"} <= reads
    used = set()
    for service in bot_services().values():
        used |= set(service["environment"])
    for name in ("common.env.example", "1.env.example", "2.env.example"):
        used |= set(read_env_file(SYSTEMD / name))
    used |= {key for keyword, rest in dockerfile_instructions() if keyword == "ENV"
             for key in re.findall(r"(\w+)=", rest)} - {"PYTHONDONTWRITEBYTECODE",
                                                        "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR",
                                                        "PIP_DISABLE_PIP_VERSION_CHECK"}
    unknown = used - reads
    assert not unknown, f"set in deploy/ but read nowhere in bot/: {sorted(unknown)}"
    assert "BOT_DATABASE_URL" in used and "BOT_DATABASE_URL" in reads


def test_the_key_check_notices_a_renamed_setting():
    source = (ROOT / "bot" / "config.py").read_text(encoding="utf-8")
    assert {"WEBHOOK_PORT", "WEBHOOK_SECRET", "BOT_TIMEZONE"} <= env_keys_read(source)
    renamed = source.replace('"WEBHOOK_PORT"', '"BOT_WEBHOOK_PORT"')
    assert "WEBHOOK_PORT" not in env_keys_read(renamed)
    assert "BOT_WEBHOOK_PORT" in env_keys_read(renamed)


def test_the_env_example_defines_every_variable_compose_needs_and_no_secret():
    text = COMPOSE.read_text(encoding="utf-8")
    interpolated = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    example = read_env_file(DEPLOY / ".env.example")
    assert interpolated == set(example)
    required = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*):\?", text))
    assert {"TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET", "POSTGRES_PASSWORD"} <= required
    for values in (example, read_env_file(SYSTEMD / "common.env.example")):
        assert values["TELEGRAM_BOT_TOKEN"] == "" and values["WEBHOOK_SECRET"] == ""
        assert not any(token_is_valid(value) for value in values.values())
    assert example.get("POSTGRES_PASSWORD") == ""


# --- systemd ------------------------------------------------------------------------------

def test_the_systemd_unit_runs_a_hardened_instance_per_port_file():
    service = systemd_unit()["Service"]
    assert service["EnvironmentFile"].split("\n") == ["/etc/lecture-bot/common.env",
                                                      "/etc/lecture-bot/%i.env"]
    program, *arguments = shlex.split(service["ExecStart"])
    assert PurePosixPath(program).name == "lecture-bot" and arguments == ["run"]
    assert service["Restart"] == "always"
    assert service["User"] not in ("", "root")
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    assert "2" in service["RestartPreventExitStatus"].split()  # EXIT_USAGE: a bad setting
    assert systemd_unit()["Install"]["WantedBy"] == "multi-user.target"

    # The shared knowledge folder is writable despite ProtectSystem.
    common = read_env_file(SYSTEMD / "common.env.example")
    writable = [PurePosixPath(p.lstrip("-")) for p in service["ReadWritePaths"].split()]
    assert any(PurePosixPath(common["BOT_KNOWLEDGE_DIR"]).is_relative_to(p) for p in writable)


def test_each_instance_file_gives_its_own_loopback_port():
    common = read_env_file(SYSTEMD / "common.env.example")
    assert common["WEBHOOK_LISTEN"] == "127.0.0.1"
    assert "WEBHOOK_PORT" not in common
    ports = [read_env_file(SYSTEMD / f"{n}.env.example")["WEBHOOK_PORT"] for n in (1, 2)]
    assert len(set(ports)) == 2
    # The note on reusing the Caddyfile names these upstreams.
    note = (SYSTEMD / "README.md").read_text(encoding="utf-8")
    assert " ".join(f"127.0.0.1:{port}" for port in ports) in note


# --- Dockerfile ---------------------------------------------------------------------------

def test_the_dockerfile_runs_lecture_bot_as_a_non_root_user():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    (cmd,) = [rest for keyword, rest in instructions if keyword == "CMD"]
    command = json.loads(cmd)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert command[0] == "lecture-bot" and command[0] in scripts
    assert command[1] in ("start", "run")
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(keyword == "RUN" and 'pip install ".[postgres]"' in rest
               for keyword, rest in instructions)
    assert any(keyword == "HEALTHCHECK" for keyword, _ in instructions)


def test_every_file_the_dockerfile_copies_exists_and_is_in_the_build_context():
    sources = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "COPY":
            words = [w for w in rest.split() if not w.startswith("--")]
            sources += words[:-1]
        elif keyword == "HEALTHCHECK":
            script = rest.split('"python", "')[1].split('"')[0]
            assert any(keyword == "COPY" and rest.endswith(script)
                       for keyword, rest in dockerfile_instructions()), script
    assert {"pyproject.toml", "bot", "knowledge", "deploy/healthcheck.py"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not dockerignored(source), source
    # The package data pip must find in the context.
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]
    for package, patterns in package_data.items():
        for pattern in patterns:
            files = list((ROOT / package.replace(".", "/")).glob(pattern))
            assert files, pattern
            for file in files:
                assert not dockerignored(file.relative_to(ROOT).as_posix()), file
    # What must stay out: secrets, the local database, the virtualenv.
    for path in (".env", "deploy/.env", "data/lecture-bot.sqlite3", ".venv/bin/python",
                 ".git/config", "bot/__pycache__/app.cpython-311.pyc"):
        assert dockerignored(path), path


# --- the container's health check ---------------------------------------------------------

def _healthcheck():
    spec = importlib.util.spec_from_file_location("healthcheck", DEPLOY / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_the_health_check_asks_the_webhook_server():
    main = _healthcheck()
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        webhook = {"WEBHOOK_URL": "https://bot.example.org/lecture-bot",
                   "WEBHOOK_LISTEN": "0.0.0.0"}
        # A GET is refused (501 here, 404/405 from the bot's server): an answer is health.
        assert main({**webhook, "WEBHOOK_PORT": str(server.server_address[1])}) == 0
        assert main({**webhook, "WEBHOOK_PORT": str(free_port())}) == 1
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert main({}) == 0  # polling: no port to ask
