# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Verify the molecule "static_routes" scenario on the lab machines.

The scenario verifies three times; <ephemeral dir>/phase.json, written by
converge.yml, remove.yml and reboot.yml, says which phase it is in:

* converged: route-1..3 are nodes;
* removed:   route-2 left (role run with state absent on it, then on the
             others with a group without it);
* rebooted:  as removed, and route-1 was powered off and on.

Expected pod CIDRs follow from the scenario's settings (cluster CIDR
100.64.0.0/16, /24 per node, the service range 100.64.0.0/24 kept out) and
the allocation rules: nodes in name order get the lowest free blocks, and a
node keeps its block when another leaves.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import pathlib
import time

import pytest
import testinfra.utils.ansible_runner

PHASE = json.loads((pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "phase.json").read_text())
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
ALL_NODES = RUNNER.get_hosts("kube_node")
NODES = PHASE["nodes"]
LEFT = [name for name in ALL_NODES if name not in NODES]

EXPECTED_POD_CIDRS = {"route-1": "100.64.1.0/24", "route-2": "100.64.2.0/24", "route-3": "100.64.3.0/24"}
PROTOCOL = 153
FACT = "/etc/ansible/facts.d/hardway_pod_cidr.fact"
DROPIN = "/etc/systemd/network/10-lab.network.d/50-hardway-static-routes.conf"
RT_PROTOS = "/etc/iproute2/rt_protos.d/hardway.conf"


def machine(name):
    return RUNNER.get_host(name)


def node_ip(name):
    return RUNNER.get_variables(name)["ansible_host"]


def pod_address(name):
    return str(ipaddress.ip_network(EXPECTED_POD_CIDRS[name]).network_address + 1)


def hardway_routes(name, selector=str(PROTOCOL)):
    """{(dest, via, dev)} of the routes of the role's protocol on a machine."""
    routes = json.loads(machine(name).check_output(f"ip -json route show table main proto {selector}"))
    return {(route["dst"], route.get("gateway"), route["dev"]) for route in routes}


def expected_routes(name):
    return {(EXPECTED_POD_CIDRS[other], node_ip(other), "host0") for other in NODES if other != name}


def test_phase_is_known():
    assert PHASE["name"] in ("converged", "removed", "rebooted")
    assert set(NODES) <= set(ALL_NODES) == set(EXPECTED_POD_CIDRS)


@pytest.mark.parametrize("name", NODES)
def test_each_node_records_its_pod_cidr(name):
    # In the later phases this shows stability: route-3 keeps 100.64.3.0/24
    # although route-2, sorted before it, left.
    fact = machine(name).file(FACT)
    assert fact.user == "root" and fact.mode == 0o644
    assert json.loads(fact.content_string) == {"pod_cidr": EXPECTED_POD_CIDRS[name]}


@pytest.mark.parametrize("name", NODES)
def test_routes_are_exactly_the_other_nodes_pod_cidrs(name):
    assert hardway_routes(name) == expected_routes(name)
    # the protocol has its name, so `ip route show proto hardway` lists the same routes
    assert hardway_routes(name, "hardway") == expected_routes(name)
    assert machine(name).file(RT_PROTOS).content_string.splitlines()[-1].split() == [str(PROTOCOL), "hardway"]


@pytest.mark.parametrize("name", NODES)
def test_routes_are_in_the_networkd_dropin(name):
    dropin = machine(name).file(DROPIN)
    assert dropin.user == "root" and dropin.mode == 0o644
    lines = dropin.content_string.splitlines()
    destinations = {line.split("=", 1)[1] for line in lines if line.startswith("Destination=")}
    gateways = {line.split("=", 1)[1] for line in lines if line.startswith("Gateway=")}
    assert destinations == {dest for dest, _via, _dev in expected_routes(name)}
    assert gateways == {via for _dest, via, _dev in expected_routes(name)}
    assert lines.count(f"Protocol={PROTOCOL}") == len(NODES) - 1


@pytest.mark.parametrize("name", NODES)
def test_other_routes_are_untouched(name):
    routes = machine(name).check_output("ip route show table main")
    assert "default via " in routes
    assert f"{EXPECTED_POD_CIDRS[name]} dev podbr0 proto kernel" in routes


# Tests of one phase are defined in that phase only (an empty parameter list
# or a skip would show up as skipped).
if LEFT:

    @pytest.mark.parametrize("name", LEFT)
    def test_a_node_that_left_is_gone_everywhere(name):
        for other in NODES:
            assert EXPECTED_POD_CIDRS[name] not in machine(other).check_output("ip route show table main")
        gone = machine(name)
        assert hardway_routes(name) == set()
        for path in (FACT, DROPIN, RT_PROTOS):
            assert not gone.file(path).exists, path

    def test_routes_of_other_protocols_are_untouched():
        # remove.yml added 100.64.200.0/24 (proto static) and 100.64.201.0/24
        # (the role's protocol, but not wanted) on route-3 before the role ran:
        # the first stays, the second is gone (test_routes_are_exactly_...).
        routes = machine("route-3").check_output("ip route show table main 100.64.200.0/24")
        assert routes.split() == ["100.64.200.0/24", "via", node_ip("route-1"), "dev", "host0", "proto", "static"]


if PHASE["name"] == "converged":

    def test_systemd_networkd_restores_the_routes_when_it_restarts():
        # A route deleted by hand comes back: networkd owns the routes and
        # installs them again when it starts.
        name = NODES[-1]
        wanted = expected_routes(name)
        assert hardway_routes(name) == wanted
        dest, _via, _dev = sorted(wanted)[0]
        machine(name).check_output(f"ip route del {dest} table main proto {PROTOCOL}")
        assert hardway_routes(name) == wanted - {(dest, _via, _dev)}
        machine(name).check_output("systemctl restart systemd-networkd")
        deadline = time.monotonic() + 20
        while hardway_routes(name) != wanted and time.monotonic() < deadline:
            time.sleep(0.5)
        assert hardway_routes(name) == wanted
        assert machine(name).check_output("systemctl is-active systemd-networkd") == "active"


if PHASE["name"] == "rebooted":

    def test_the_power_cycled_node_booted_again_with_its_routes():
        name = PHASE["rebooted"]
        assert not machine(name).file("/run/hardway-static-routes-marker").exists
        assert hardway_routes(name) == expected_routes(name)


@pytest.mark.parametrize(("source", "target"), list(itertools.permutations(NODES, 2)))
def test_pods_reach_each_other(source, target):
    # From the source's pod address to the target's: out by the route via the
    # target's node IP, back by the target's route to the source's pod CIDR.
    result = machine(source).run(f"ping -c 1 -W 2 -I {pod_address(source)} {pod_address(target)}")
    assert result.rc == 0, result.stdout + result.stderr
