"""Bad input to playbooks/site.yml stops the play before any host changes, with a message naming the
problem: a missing group, an even-sized etcd group, an apiserver without a route to the load balancer.
Runs before test_ha_control_plane.py deploys (file order), on untouched machines."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO, ansible_env, lab

UNTOUCHED = "test ! -e /usr/local/bin/etcd && test ! -e /usr/local/bin/kube-apiserver && test ! -e /etc/kubernetes"


def run_site(inventory: str) -> subprocess.CompletedProcess:
    vault = json.loads(lab("vault-env", "--json").stdout)
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", inventory, str(REPO / "playbooks" / "site.yml")],
                          capture_output=True, text=True, env={**ansible_env(), **vault}, cwd=REPO, check=False)


def edited_inventory(ha_lab, tmp_path, edit) -> str:
    data = json.loads(Path(ha_lab.inventory).read_text().split("\n", 1)[1])
    edit(data["all"]["children"])
    path = tmp_path / "hosts.yml"
    path.write_text(json.dumps(data))
    return str(path)


def output(result) -> str:
    return " ".join((result.stdout + result.stderr).split())


def assert_nothing_changed(ha_lab, result):
    assert "PLAY [Vault PKI for the cluster]" not in result.stdout, "the play went past the inventory check"
    for host in ha_lab.group("etcd") + ha_lab.group("kube_apiserver"):
        assert ha_lab.ssh(host, UNTOUCHED).returncode == 0, f"{host} was changed"


def test_a_missing_group_is_named(ha_lab, tmp_path):
    inventory = edited_inventory(ha_lab, tmp_path, lambda groups: groups.pop("kube_scheduler"))
    result = run_site(inventory)
    assert result.returncode != 0
    assert "The inventory lacks group 'kube_scheduler' (missing or empty)" in output(result)
    assert_nothing_changed(ha_lab, result)


def test_an_even_etcd_group_is_refused(ha_lab, tmp_path):
    inventory = edited_inventory(ha_lab, tmp_path, lambda groups: groups["etcd"]["hosts"].update({ha_lab.group("kube_scheduler")[0]: {}}))
    result = run_site(inventory)
    assert result.returncode != 0
    assert "etcd group 'etcd' has 4 hosts" in output(result)
    assert_nothing_changed(ha_lab, result)


def test_an_apiserver_without_a_route_to_the_load_balancer_is_named(ha_lab):
    lb = ha_lab.address(ha_lab.group("apiserver_lb")[0])
    apiserver = ha_lab.group("kube_apiserver")[-1]
    assert ha_lab.ssh(apiserver, f"ip route add unreachable {lb}/32").returncode == 0
    try:
        result = run_site(ha_lab.inventory)
    finally:
        ha_lab.ssh(apiserver, f"ip route del unreachable {lb}/32")
    assert result.returncode != 0
    assert f"{apiserver} has no route to {lb} (the load balancer)" in output(result)
    assert_nothing_changed(ha_lab, result)
