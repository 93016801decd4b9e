import json

import pytest

from hardway_lab import inventory, machines, network, topology
from hardway_lab.config import LabConfig, LabError


def test_ha_topology_matches_the_issue(config):
    ha = topology.load("ha", config)
    sizes = {group: len(names) for group, names in ha.groups().items()}
    assert sizes == {"etcd": 3, "etcd_events": 3, "kube_apiserver": 2, "apiserver_lb": 1, "kube_controller_manager": 2,
                     "kube_scheduler": 2, "kube_node": 2, "bgp_route_reflector": 0}
    assert len(ha.machines) == 15
    addresses = [m.address for m in ha.machines]
    assert len(set(addresses)) == 15 and all(a.startswith("198.18.0.") for a in addresses)


def test_only_node_machines_get_the_node_profile(config):
    ha = topology.load("ha", config)
    assert [m.name for m in ha.machines if m.is_node] == ["node-1", "node-2"]
    node = machines.nspawn_command(config, ha.machine("node-1"), config.machines_dir / "node-1" / "root")
    etcd = machines.nspawn_command(config, ha.machine("etcd-1"), config.machines_dir / "etcd-1" / "root")
    assert "--capability=all" in node and "--capability=all" not in etcd
    assert f"--bind={config.machines_dir / 'node-1' / 'containerd'}:/var/lib/containerd" in node
    assert "--network-bridge=hwlab0" in etcd and "--register=no" in etcd


def test_topology_files_describe_molecule_platforms(config, tmp_path):
    path = tmp_path / "scenario.json"
    machines_spec = [{"name": "a-1", "groups": ["kube_node"], "extra": 1}, {"name": "b-1", "groups": []}]
    path.write_text(json.dumps({"machines": machines_spec}))
    topo = topology.load(str(path), config)
    assert topo.name == "scenario"
    expected = [("a-1", ("kube_node",), "198.18.0.11"), ("b-1", (), "198.18.0.12")]
    assert [(m.name, m.groups, m.address) for m in topo.machines] == expected


@pytest.mark.parametrize("machines_spec, message", [
    ([], "has no machines"),
    ([{"name": "Bad_Name", "groups": []}], "not a short lower-case host name"),
    ([{"name": "a-1"}, {"name": "a-1"}], "used twice"),
    ([{"name": "a-1", "groups": ["etcd", "masters"]}], r"unknown groups \['masters'\]"),
])
def test_bad_topologies_are_refused_with_the_reason(config, machines_spec, message):
    with pytest.raises(LabError, match=message):
        topology.build("t", machines_spec, config)


def test_unknown_topology_names_list_the_known_ones(config):
    with pytest.raises(LabError, match="use one of ha, minimal"):
        topology.load("huge", config)


def test_round_trip_through_the_state_file(config):
    ha = topology.load("ha", config)
    assert topology.Topology.from_dict(json.loads(json.dumps(ha.to_dict()))) == ha


def test_inventory_has_every_design_group_and_the_lab_urls(config):
    import yaml

    ha = topology.load("ha", config)
    data = yaml.safe_load(inventory.render(config, ha))["all"]
    assert set(data["children"]) == set(topology.GROUPS)
    assert set(data["children"]["etcd_events"]["hosts"]) == {"etcd-events-1", "etcd-events-2", "etcd-events-3"}
    assert data["hosts"]["lb-1"] == {"ansible_host": ha.machine("lb-1").address}
    assert data["vars"]["download_kubernetes_base_url"] == "http://198.18.0.1:8080/kubernetes"
    assert data["vars"]["download_etcd_base_url"] == "http://198.18.0.1:8080/etcd"
    assert data["vars"]["ansible_ssh_private_key_file"] == str(config.ssh_key)


def test_inventory_keeps_pods_and_services_in_the_test_range(config):
    import ipaddress

    import yaml

    variables = yaml.safe_load(inventory.render(config, topology.load("ha", config)))["all"]["vars"]
    shared = ipaddress.ip_network("100.64.0.0/10")
    pods, services = (ipaddress.ip_network(variables[name]) for name in ("static_routes_cluster_cidr", "kube_apiserver_service_cidr"))
    assert pods.subnet_of(shared) and services.subnet_of(shared) and not pods.overlaps(services)
    assert variables["static_routes_service_cidr"] == variables["kube_apiserver_service_cidr"]
    assert variables["admin_kubeconfig_path"] == str(config.admin_kubeconfig)
    assert config.admin_kubeconfig.is_relative_to(config.state_dir)


def test_machine_files(config):
    topo = topology.load("ha", config)
    etcd = topo.machine("etcd-2")
    network_file = machines.network_file(config, etcd)
    assert f"Address={etcd.address}/24" in network_file
    assert "Gateway=198.18.0.1" in network_file  # without it ansible_default_ipv4 is empty
    hosts = machines.hosts_file(topo)
    assert f"{etcd.address} etcd-2\n" in hosts and hosts.startswith("127.0.0.1 localhost\n")


def test_two_labs_use_distinct_host_objects(config):
    other = LabConfig.from_env({"HARDWAY_LAB_BRIDGE": "hwlab1", "HARDWAY_LAB_SUBNET": "198.18.1.0/24"})
    assert (config.bridge, config.guard_chain, config.cgroup_prefix) == ("hwlab0", "HWLAB-GUARD-0", "hwlab0-")
    assert (other.bridge, other.guard_chain, other.cgroup_prefix) == ("hwlab1", "HWLAB-GUARD-1", "hwlab1-")
    assert other.apt_cache_dir != config.apt_cache_dir
    with pytest.raises(LabError, match="must be hwlab0 to hwlab99"):
        LabConfig.from_env({"HARDWAY_LAB_BRIDGE": "eth0"})


def test_guard_rules_drop_everything_that_leaves_the_bridge(config):
    rules = network.guard_rules(config)
    assert rules[0] == ["-i", "hwlab0", "-o", "hwlab0", "-j", "ACCEPT"]
    assert ["-i", "hwlab0", "-j", "DROP"] in rules and ["-o", "hwlab0", "-j", "DROP"] in rules
    assert rules.index(["-i", "hwlab0", "-j", "DROP"]) > 0
