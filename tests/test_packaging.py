"""Every package the library imports is declared in pyproject.toml; one cv2 only."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs.extend(extra)
    names = {re.split(r"[\s<>=!~\[;]", spec, maxsplit=1)[0] for spec in specs}
    return {_normal(n) for n in names if n}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _top_level_imports(package: Path) -> set[str]:
    found: set[str] = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_every_third_party_import_of_the_library_is_declared():
    provided = packages_distributions()
    declared = _declared()
    third_party = {
        name
        for name in _top_level_imports(ROOT / "screener")
        if name not in sys.stdlib_module_names and name != "screener"
    }
    assert "cv2" in third_party  # the check below really covers OpenCV
    missing = {}
    for module in sorted(third_party):
        dists = {_normal(d) for d in provided.get(module, [])}
        assert dists, f"{module} is imported but not installed"
        if not dists & declared:
            missing[module] = sorted(dists)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_exactly_one_opencv_package_is_installed():
    installed = []
    for dist in (
        "opencv-python",
        "opencv-contrib-python",
        "opencv-python-headless",
        "opencv-contrib-python-headless",
    ):
        try:
            version(dist)
        except PackageNotFoundError:
            continue
        installed.append(dist)
    assert installed == ["opencv-contrib-python"]
    assert sorted(packages_distributions()["cv2"]) == ["opencv-contrib-python"]
