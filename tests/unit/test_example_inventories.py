# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""The example inventories parse and keep the inventory contract that roles/preflight checks."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
PREFLIGHT = yaml.safe_load((REPO / "roles" / "preflight" / "defaults" / "main.yml").read_text())


def load(name: str) -> dict:
    result = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-inventory"), "-i", str(REPO / "inventories" / name),
                             "--list"], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def hosts(inventory: dict, group: str) -> set[str]:
    found = set(inventory.get(group, {}).get("hosts", []))
    for child in inventory.get(group, {}).get("children", []):
        found |= hosts(inventory, child)
    return found


@pytest.mark.parametrize("name", ["small", "large"])
def test_example_inventory_keeps_the_contract(name):
    inventory = load(name)
    for group in PREFLIGHT["preflight_required_groups"]:
        assert hosts(inventory, group), f"{name}: group {group} is empty"
    etcd = [hosts(inventory, group) for group in PREFLIGHT["preflight_etcd_groups"]]
    assert all(len(members) % 2 == 1 for members in etcd)
    assert not etcd[0] & etcd[1], "a host in both etcd clusters"
    assert len(hosts(inventory, "kube_apiserver")) >= 2
    variables = inventory["_meta"]["hostvars"][sorted(hosts(inventory, "apiserver_lb"))[0]]
    assert variables["apiserver_lb_vip"] == variables["kube_apiserver_lb_address"]


def test_large_layout_puts_every_component_on_hosts_of_its_own():
    inventory = load("large")
    names = ("etcd", "etcd_events", "kube_apiserver", "apiserver_lb", "kube_controller_manager", "kube_scheduler", "kube_node")
    groups = [hosts(inventory, name) for name in names]
    for index, members in enumerate(groups):
        for other in groups[index + 1:]:
            assert not members & other
    assert len(hosts(inventory, "kube_node")) == 400
