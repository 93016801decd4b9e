# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""A role's interface is its meta/argument_specs.yml; defaults must match it.

For every role under roles/ that has defaults or an argument spec:

(a) every key of defaults/main.yml is an option of the ``main`` entry point;
(b) every option of ``main`` that is not ``required: true`` has a default in
    defaults/main.yml (and a required option has none: it would never be
    required);
(c) where the spec gives ``default:``, it equals the value in defaults;
(d) every option (suboptions too, in every entry point) has a ``description``
    and a ``type``.

The fixture tests at the bottom build small roles that break each rule, so
the checker is shown to fail where it should.
"""

from __future__ import annotations

import pathlib

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLES_DIR = REPO / "roles"


# --------------------------------------------------------------------------
# Loading role files
# --------------------------------------------------------------------------
class _Tagged:
    """A value carrying an Ansible YAML tag (!unsafe, !vault), compared by tag and text."""

    def __init__(self, tag: str, value: str) -> None:
        self.tag, self.value = tag, value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Tagged) and (self.tag, self.value) == (other.tag, other.value)

    def __hash__(self) -> int:
        return hash((self.tag, self.value))

    def __repr__(self) -> str:
        return f"{self.tag} {self.value!r}"


class _AnsibleYamlLoader(yaml.SafeLoader):
    """SafeLoader that also reads the tags Ansible allows in vars files."""


for _tag in ("!unsafe", "!vault", "!vault-encrypted"):
    _AnsibleYamlLoader.add_constructor(
        _tag, lambda loader, node, tag=_tag: _Tagged(tag, loader.construct_scalar(node))
    )


def _load_yaml(path: pathlib.Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_AnsibleYamlLoader)  # noqa: S506 - SafeLoader subclass


def _first_existing(*candidates: pathlib.Path) -> pathlib.Path | None:
    return next((c for c in candidates if c.exists()), None)


def load_defaults(role: pathlib.Path) -> tuple[dict, str | None]:
    """Return (defaults, source) for a role; defaults/main may be a file or a directory."""
    path = _first_existing(
        role / "defaults" / "main.yml", role / "defaults" / "main.yaml", role / "defaults" / "main"
    )
    if path is None:
        return {}, None
    files = sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml")) if path.is_dir() else [path]
    merged: dict = {}
    for file in files:
        data = _load_yaml(file)
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ValueError(f"{file}: expected a mapping of variables, got {type(data).__name__}")
        merged.update(data)
    return merged, str(path.relative_to(role.parent))


def load_argument_specs(role: pathlib.Path) -> tuple[dict | None, str | None]:
    """Return (argument_specs, source): meta/argument_specs.y(a)ml, else meta/main.yml's argument_specs."""
    path = _first_existing(role / "meta" / "argument_specs.yml", role / "meta" / "argument_specs.yaml")
    if path is None:
        meta_main = _first_existing(role / "meta" / "main.yml", role / "meta" / "main.yaml")
        if meta_main is None or "argument_specs" not in (_load_yaml(meta_main) or {}):
            return None, None
        path = meta_main
    data = _load_yaml(path) or {}
    return data.get("argument_specs"), str(path.relative_to(role.parent))


# --------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------
def _same(a, b) -> bool:
    """Equality that does not let True == 1 or 1 == 1.0 pass."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _check_described_and_typed(options: dict, where: str, problems: list[str]) -> None:
    for name, spec in options.items():
        if not isinstance(spec, dict):
            problems.append(f"{where} option '{name}': expected a mapping, got {spec!r}; give it 'type' and 'description'")
            continue
        if not spec.get("description"):
            problems.append(f"{where} option '{name}' has no description: add 'description:' saying what it controls")
        if not spec.get("type"):
            problems.append(f"{where} option '{name}' has no type: add 'type:' (str, int, bool, list, dict, path, raw, ...)")
        if isinstance(spec.get("options"), dict):
            _check_described_and_typed(spec["options"], f"{where} option '{name}'", problems)


def check_role(role: pathlib.Path) -> list[str]:
    """Return the interface problems of one role; an empty list means consistent."""
    name = role.name
    problems: list[str] = []
    defaults, defaults_src = load_defaults(role)
    specs, specs_src = load_argument_specs(role)

    if specs is None:
        return [f"role '{name}' has {defaults_src} but no meta/argument_specs.yml: describe every default there"]
    if not isinstance(specs, dict) or not isinstance(specs.get("main"), dict):
        return [f"{specs_src}: no 'main' entry point under argument_specs: add argument_specs.main.options"]

    for entry_point, entry in specs.items():
        options = (entry or {}).get("options") or {}
        if not isinstance(options, dict):
            problems.append(f"{specs_src} entry point '{entry_point}': options must be a mapping, got {options!r}")
            continue
        _check_described_and_typed(options, f"{specs_src} entry point '{entry_point}'", problems)

    options = specs["main"].get("options") or {}
    if not isinstance(options, dict):
        return problems
    where = f"{specs_src} (main)"
    for key in defaults:
        if key not in options:
            problems.append(
                f"{defaults_src} sets '{key}' (= {defaults[key]!r}) but {where} has no option '{key}': "
                "document it in the spec or drop the default"
            )
    for key, spec in options.items():
        if not isinstance(spec, dict):
            continue
        required = spec.get("required") is True
        if not required and key not in defaults:
            problems.append(
                f"{where} option '{key}' is optional but {defaults_src or 'defaults/main.yml'} has no value for it: "
                "add the default there or mark the option 'required: true'"
            )
        if required and key in defaults:
            problems.append(
                f"{where} option '{key}' is 'required: true' but {defaults_src} gives it {defaults[key]!r}, "
                "so it can never be missing: drop 'required' or the default"
            )
        if "default" in spec and key in defaults and not _same(spec["default"], defaults[key]):
            problems.append(
                f"{where} option '{key}' has default {spec['default']!r} but {defaults_src} has {defaults[key]!r}: "
                "make them the same value"
            )
    return problems


def discover_roles(roles_dir: pathlib.Path) -> list[pathlib.Path]:
    """Roles that declare an interface: they have defaults or an argument spec."""
    if not roles_dir.is_dir():
        return []
    return sorted(
        role
        for role in roles_dir.iterdir()
        if role.is_dir() and (load_defaults(role)[1] is not None or load_argument_specs(role)[1] is not None)
    )


# --------------------------------------------------------------------------
# The real roles (whatever exists at run time)
# --------------------------------------------------------------------------
_REAL_ROLES = discover_roles(ROLES_DIR)

if _REAL_ROLES:  # an empty parameter set would show up as a skip

    @pytest.mark.parametrize("role", _REAL_ROLES, ids=[r.name for r in _REAL_ROLES])
    def test_role_interface_matches_defaults(role: pathlib.Path) -> None:
        problems = check_role(role)
        assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------
# The checker itself, on fixture roles
# --------------------------------------------------------------------------
GOOD_DEFAULTS = {
    "demo_port": 2379,
    "demo_enabled": True,
    "demo_peers": ["198.18.0.11", "198.18.0.12"],
    "demo_limits": {"cpu": "500m"},
}
GOOD_OPTIONS = {
    "demo_port": {"type": "int", "default": 2379, "description": "Port."},
    "demo_enabled": {"type": "bool", "default": True, "description": "Switch."},
    "demo_peers": {"type": "list", "elements": "str", "default": ["198.18.0.11", "198.18.0.12"], "description": "Peers."},
    "demo_limits": {
        "type": "dict",
        "default": {"cpu": "500m"},
        "description": "Limits.",
        "options": {"cpu": {"type": "str", "description": "CPU limit."}},
    },
    "demo_token": {"type": "str", "required": True, "no_log": True, "description": "Token."},
}


def make_role(tmp_path: pathlib.Path, defaults=None, options=None, name: str = "demo", extra_entry=None):
    role = tmp_path / "roles" / name
    (role / "tasks").mkdir(parents=True)
    (role / "tasks" / "main.yml").write_text("---\n[]\n")
    if defaults is not None:
        (role / "defaults").mkdir()
        (role / "defaults" / "main.yml").write_text("---\n" + yaml.safe_dump(defaults))
    if options is not None:
        specs = {"main": {"short_description": "Demo.", "options": options}}
        if extra_entry:
            specs.update(extra_entry)
        (role / "meta").mkdir()
        (role / "meta" / "argument_specs.yml").write_text("---\n" + yaml.safe_dump({"argument_specs": specs}))
    return role


def _without(mapping: dict, key: str) -> dict:
    return {k: v for k, v in mapping.items() if k != key}


def _with_option(key: str, **changes) -> dict:
    options = {k: dict(v) for k, v in GOOD_OPTIONS.items()}
    options[key].update(changes)
    for attr, value in changes.items():
        if value is None:
            del options[key][attr]
    return options


def test_consistent_role_has_no_problems(tmp_path):
    assert check_role(make_role(tmp_path, GOOD_DEFAULTS, GOOD_OPTIONS)) == []


@pytest.mark.parametrize(
    ("defaults", "options", "expected"),
    [
        pytest.param(
            {**GOOD_DEFAULTS, "demo_stray": 1}, GOOD_OPTIONS, "sets 'demo_stray' (= 1) but", id="a-default-not-in-spec"
        ),
        pytest.param(
            _without(GOOD_DEFAULTS, "demo_port"), GOOD_OPTIONS, "option 'demo_port' is optional but", id="b-option-without-default"
        ),
        pytest.param(
            {**GOOD_DEFAULTS, "demo_token": "x"}, GOOD_OPTIONS, "option 'demo_token' is 'required: true' but", id="b-required-with-default"
        ),
        pytest.param(
            {**GOOD_DEFAULTS, "demo_port": 2380}, GOOD_OPTIONS, "has default 2379 but demo/defaults/main.yml has 2380", id="c-values-differ"
        ),
        pytest.param(
            {**GOOD_DEFAULTS, "demo_enabled": 1}, GOOD_OPTIONS, "has default True but demo/defaults/main.yml has 1", id="c-bool-vs-int"
        ),
        pytest.param(
            {**GOOD_DEFAULTS, "demo_peers": ["198.18.0.12", "198.18.0.11"]}, GOOD_OPTIONS, "option 'demo_peers' has default", id="c-list-order"
        ),
        pytest.param(
            GOOD_DEFAULTS, _with_option("demo_port", description=None), "option 'demo_port' has no description", id="d-no-description"
        ),
        pytest.param(GOOD_DEFAULTS, _with_option("demo_port", type=None), "option 'demo_port' has no type", id="d-no-type"),
        pytest.param(
            GOOD_DEFAULTS,
            _with_option("demo_limits", options={"cpu": {"type": "str"}}),
            "option 'demo_limits' option 'cpu' has no description",
            id="d-suboption-no-description",
        ),
    ],
)
def test_each_rule_catches_its_violation(tmp_path, defaults, options, expected):
    problems = check_role(make_role(tmp_path, defaults, options))
    assert len(problems) == 1, problems
    assert expected in problems[0]
    assert "demo" in problems[0]


def test_other_entry_points_need_description_and_type(tmp_path):
    extra = {"rotate": {"short_description": "Rotate.", "options": {"demo_force": {"type": "bool"}}}}
    problems = check_role(make_role(tmp_path, GOOD_DEFAULTS, GOOD_OPTIONS, extra_entry=extra))
    assert problems == [
        "demo/meta/argument_specs.yml entry point 'rotate' option 'demo_force' has no description: "
        "add 'description:' saying what it controls"
    ]


def test_defaults_without_argument_specs(tmp_path):
    problems = check_role(make_role(tmp_path, GOOD_DEFAULTS, None))
    assert problems == [
        "role 'demo' has demo/defaults/main.yml but no meta/argument_specs.yml: describe every default there"
    ]


def test_argument_specs_without_main_entry_point(tmp_path):
    role = make_role(tmp_path, GOOD_DEFAULTS, None)
    (role / "meta").mkdir()
    (role / "meta" / "argument_specs.yml").write_text("---\nargument_specs:\n  other:\n    options: {}\n")
    assert check_role(role) == [
        "demo/meta/argument_specs.yml: no 'main' entry point under argument_specs: add argument_specs.main.options"
    ]


def test_spec_without_defaults_file_lists_every_optional_option(tmp_path):
    problems = check_role(make_role(tmp_path, None, GOOD_OPTIONS))
    missing = sorted(p.split("'")[1] for p in problems)
    assert missing == sorted(k for k, v in GOOD_OPTIONS.items() if not v.get("required"))


def test_ansible_tags_and_defaults_directory(tmp_path):
    role = make_role(tmp_path, None, {"demo_tpl": {"type": "str", "description": "T.", "default": "{{ x }}"}})
    (role / "defaults" / "main").mkdir(parents=True)
    (role / "defaults" / "main" / "a.yml").write_text("---\ndemo_tpl: !unsafe '{{ x }}'\n")
    problems = check_role(role)
    assert len(problems) == 1 and "has default '{{ x }}' but demo/defaults/main has !unsafe '{{ x }}'" in problems[0]
    (role / "defaults" / "main" / "a.yml").write_text("---\ndemo_tpl: '{{ x }}'\n")
    assert check_role(role) == []


def test_argument_specs_in_meta_main(tmp_path):
    role = make_role(tmp_path, {"demo_port": 1}, None)
    (role / "meta").mkdir()
    (role / "meta" / "main.yml").write_text(
        "---\nargument_specs:\n  main:\n    options:\n      demo_port: {type: int, default: 2, description: P.}\n"
    )
    problems = check_role(role)
    assert problems == [
        "demo/meta/main.yml (main) option 'demo_port' has default 2 but demo/defaults/main.yml has 1: make them the same value"
    ]


def test_discovery_finds_roles_with_defaults_or_specs_only(tmp_path):
    make_role(tmp_path, GOOD_DEFAULTS, None, name="with_defaults")
    make_role(tmp_path, None, GOOD_OPTIONS, name="with_spec")
    make_role(tmp_path, None, None, name="tasks_only")
    found = [r.name for r in discover_roles(tmp_path / "roles")]
    assert found == ["with_defaults", "with_spec"]
    assert discover_roles(tmp_path / "missing") == []
