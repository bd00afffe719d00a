"""constraints.txt (what the Docker image installs) agrees with pyproject.toml.

Every runtime dependency, and every library those pull in, is pinned to one version inside the
range pyproject allows; the build tools pinned satisfy ``build-system.requires``. A dependency
added to pyproject without re-running ``make constraints`` fails here, not in a Docker build.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
# sqlite-utils names pip (for its `install` command); pip is the installer itself, already in
# the image, so it is not pinned.
INSTALLER = {"pip"}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def _pins(section: str | None = None) -> dict[str, Version]:
    """{canonical name: version} of the `==` lines, of one `# section` or of the whole file."""
    pins: dict[str, Version] = {}
    current = None
    for raw in (ROOT / "constraints.txt").read_text("utf-8").splitlines():
        line = raw.strip()
        if line.startswith("# ") and " " not in line[2:]:
            current = line[2:]
            continue
        if not line or line.startswith("#") or (section and current != section):
            continue
        name, _, version = line.partition("==")
        assert version, f"constraints.txt: {line!r} is not an exact pin"
        pins[canonicalize_name(name)] = Version(version)
    return pins


RUNTIME = [Requirement(spec) for spec in PYPROJECT["project"]["dependencies"]]


def test_the_file_has_both_sections() -> None:
    assert _pins("runtime") and _pins("build")
    assert not set(_pins("runtime")) & set(_pins("build")), "one pin per distribution"


@pytest.mark.parametrize("requirement", RUNTIME, ids=[r.name for r in RUNTIME])
def test_each_runtime_dependency_is_pinned_inside_its_range(requirement: Requirement) -> None:
    pins = _pins("runtime")
    name = canonicalize_name(requirement.name)
    assert name in pins, f"{requirement.name} is not in constraints.txt: run `make constraints`"
    assert requirement.specifier.contains(pins[name], prereleases=True), (
        f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {requirement}"
    )


def test_the_whole_runtime_closure_is_pinned() -> None:
    """Walk the installed dependencies' own requirements: each distribution reached is pinned."""
    pins = _pins("runtime")
    seen: set[str] = set()
    todo = [req for req in RUNTIME if req.marker is None or req.marker.evaluate()]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        for spec in metadata.requires(requirement.name) or []:
            child = Requirement(spec)
            if child.marker is None or child.marker.evaluate({"extra": ""}):
                todo.append(child)
    missing = sorted(seen - set(pins) - INSTALLER)
    assert not missing, f"not pinned (run `make constraints`): {missing}"
    unused = sorted(set(pins) - seen)
    assert not unused, f"pinned but no runtime dependency needs them: {unused}"


def test_build_tools_satisfy_the_build_system() -> None:
    build_pins = _pins("build")
    for spec in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in build_pins, f"{name} (build-system.requires) is not pinned"
        assert requirement.specifier.contains(build_pins[name])
    assert "build" in build_pins, "the Dockerfile's build frontend"
