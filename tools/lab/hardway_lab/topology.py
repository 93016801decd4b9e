"""Topologies: which machines a lab has and which inventory groups they join.

A topology is data: a list of machines, each with a host name and the
inventory groups of DESIGN.md it belongs to. Built-in topologies are named;
a JSON file with the same shape (``{"machines": [{"name": ..., "groups":
[...]}]}``) may be given instead, which is how molecule scenarios describe
their platforms.
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from .config import LabConfig, LabError

GROUPS = (
    "etcd",
    "etcd_events",
    "kube_apiserver",
    "apiserver_lb",
    "kube_controller_manager",
    "kube_scheduler",
    "kube_node",
    "bgp_route_reflector",
)

# Machines in these groups run containers and get the node profile.
NODE_GROUPS = frozenset({"kube_node"})

_HOSTNAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")


def _series(prefix: str, count: int, groups: tuple[str, ...]) -> list[dict]:
    return [{"name": f"{prefix}-{i}", "groups": list(groups)} for i in range(1, count + 1)]


BUILTIN = {
    # One machine per role scenario; scenarios that need more describe their own.
    "minimal": _series("lab", 1, ()),
    "ha": (
        _series("etcd", 3, ("etcd",))
        + _series("etcd-events", 3, ("etcd_events",))
        + _series("apiserver", 2, ("kube_apiserver",))
        + _series("lb", 1, ("apiserver_lb",))
        + _series("controller", 2, ("kube_controller_manager",))
        + _series("scheduler", 2, ("kube_scheduler",))
        + _series("node", 2, ("kube_node",))
    ),
}


@dataclasses.dataclass(frozen=True)
class Machine:
    name: str
    groups: tuple[str, ...]
    address: str

    @property
    def is_node(self) -> bool:
        return bool(NODE_GROUPS.intersection(self.groups))


@dataclasses.dataclass(frozen=True)
class Topology:
    name: str
    machines: tuple[Machine, ...]

    def machine(self, name: str) -> Machine:
        for machine in self.machines:
            if machine.name == name:
                return machine
        known = ", ".join(m.name for m in self.machines)
        raise LabError(f"no machine named {name!r} in topology {self.name!r} (machines: {known})")

    def groups(self) -> dict[str, list[str]]:
        """Group name -> machine names, for every group of DESIGN.md (empty ones included)."""
        result: dict[str, list[str]] = {group: [] for group in GROUPS}
        for machine in self.machines:
            for group in machine.groups:
                result[group].append(machine.name)
        return result

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "machines": [dataclasses.asdict(m) | {"groups": list(m.groups)} for m in self.machines],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Topology":
        return cls(
            name=data["name"],
            machines=tuple(Machine(m["name"], tuple(m["groups"]), m["address"]) for m in data["machines"]),
        )


def load(name_or_path: str, config: LabConfig) -> Topology:
    """Resolve a built-in name or a JSON file into a topology with addresses."""
    if name_or_path in BUILTIN:
        return build(name_or_path, BUILTIN[name_or_path], config)
    path = Path(name_or_path)
    if not path.is_file():
        raise LabError(
            f"unknown topology {name_or_path!r}: use one of {', '.join(sorted(BUILTIN))} or the path of a JSON topology file"
        )
    try:
        data = json.loads(path.read_text())
        machines = data["machines"]
    except (ValueError, KeyError, TypeError) as exc:
        raise LabError(f"topology file {path} is not valid: expected {{\"machines\": [{{\"name\": ..., \"groups\": [...]}}]}} ({exc})") from None
    return build(path.stem, machines, config)


def build(name: str, machines: list[dict], config: LabConfig) -> Topology:
    if not machines:
        raise LabError(f"topology {name!r} has no machines")
    seen: set[str] = set()
    result = []
    for index, spec in enumerate(machines):
        machine_name = spec.get("name") if isinstance(spec, dict) else None
        if not isinstance(machine_name, str) or not _HOSTNAME.match(machine_name):
            raise LabError(
                f"topology {name!r}: machine name {machine_name!r} is not a short lower-case host name "
                "(letters, digits and '-', 2 to 32 characters, starting with a letter)"
            )
        if machine_name in seen:
            raise LabError(f"topology {name!r}: machine name {machine_name!r} is used twice")
        seen.add(machine_name)
        groups = tuple(spec.get("groups", ()))
        unknown = sorted(set(groups) - set(GROUPS))
        if unknown:
            raise LabError(
                f"topology {name!r}: machine {machine_name!r} has unknown groups {unknown}; known groups: {', '.join(GROUPS)}"
            )
        result.append(Machine(machine_name, groups, config.host_address(index)))
    return Topology(name, tuple(result))
