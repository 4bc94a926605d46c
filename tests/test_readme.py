"""The README's module map is the package's tree: every module it names exists, and every module is named."""

from __future__ import annotations

import re

from conftest import ROOT

PACKAGE = ROOT / "generator"


def module_map() -> dict[str, bool]:
    """Return each path the map under `generator/` names (relative to the package), True for a folder."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^## Development\n.*?^```\n(.*?)^```", text, re.S | re.M).group(1)
    lines = block.splitlines()
    assert lines[0].startswith("generator/")
    named: dict[str, bool] = {}
    parents: list[str] = []
    for line in lines[1:]:
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            break                                   # past generator/: templates/, tests/, tools/
        depth = indent // 2 - 1
        names = re.match(r"((?:[\w.]+/?)(?:, [\w.]+/?)*)", line.strip()).group(1).split(", ")
        parents = parents[:depth]
        for name in names:
            named["/".join([*parents, name.rstrip("/")])] = name.endswith("/")
        if names[-1].endswith("/"):
            parents.append(names[-1].rstrip("/"))
    return named


def test_every_module_the_map_names_exists():
    for path, folder in module_map().items():
        assert (PACKAGE / path).is_dir() if folder else (PACKAGE / path).is_file(), path


def test_every_module_is_in_the_map():
    named = module_map()
    listed_folders = [p for p, folder in named.items() if folder]
    for module in sorted(PACKAGE.rglob("*.py")):
        rel = module.relative_to(PACKAGE).as_posix()
        if rel == "__init__.py":
            continue                                # generator/ itself: its version number
        if rel in named or (module.name == "__init__.py" and module.parent.relative_to(PACKAGE).as_posix() in named):
            continue
        folder = module.parent.relative_to(PACKAGE).as_posix()
        # A folder named without its modules (fast/, adapters/) stands for all of them.
        described_whole = folder in listed_folders and not any(p.startswith(folder + "/") for p in named)
        assert described_whole, f"generator/{rel} is not in the README's module map"
