# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Check that the collection's metadata files agree with each other and the code.

- meta/runtime.yml's ``hardway.kubernetes`` action group lists exactly the
  modules in plugins/modules/, so module_defaults reaches every module;
- galaxy.yml's dependencies and requirements.yml name the same collections
  with the same version requirements.

Usage: python tests/quality/check_metadata.py [REPO]   (exit 1 on a mismatch)
"""

from __future__ import annotations

import pathlib
import sys

import yaml

GROUP = "hardway.kubernetes"


def check(repo: pathlib.Path) -> list[str]:
    """Return the mismatches found in the metadata of the collection at repo."""
    problems = []

    runtime = yaml.safe_load((repo / "meta" / "runtime.yml").read_text(encoding="utf-8")) or {}
    grouped = set((runtime.get("action_groups") or {}).get(GROUP) or [])
    modules = {p.stem for p in (repo / "plugins" / "modules").glob("*.py") if p.stem != "__init__"}
    for name in sorted(modules - grouped):
        problems.append(
            f"meta/runtime.yml: module '{name}' (plugins/modules/{name}.py) is missing from "
            f"action_groups.{GROUP}: add it so module_defaults applies to it"
        )
    for name in sorted(grouped - modules):
        problems.append(
            f"meta/runtime.yml: action_groups.{GROUP} lists '{name}' but plugins/modules/{name}.py "
            "does not exist: remove it or add the module"
        )

    galaxy = yaml.safe_load((repo / "galaxy.yml").read_text(encoding="utf-8")) or {}
    declared = {name: str(spec) for name, spec in (galaxy.get("dependencies") or {}).items()}
    requirements = yaml.safe_load((repo / "requirements.yml").read_text(encoding="utf-8")) or {}
    required = {item["name"]: str(item.get("version", "*")) for item in requirements.get("collections") or []}
    for name in sorted(declared.keys() | required.keys()):
        if declared.get(name) != required.get(name):
            problems.append(
                f"collection '{name}': galaxy.yml dependencies say {declared.get(name)!r}, "
                f"requirements.yml says {required.get(name)!r}: make them the same"
            )
    return problems


def main(argv: list[str]) -> int:
    """Print the mismatches; return 1 when there are any."""
    repo = pathlib.Path(argv[1]) if len(argv) > 1 else pathlib.Path(__file__).resolve().parents[2]
    problems = check(repo)
    for problem in problems:
        print(problem)
    if not problems:
        print("metadata: action group and dependencies agree")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
