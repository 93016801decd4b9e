"""The `ha` lab: every machine boots and answers Ansible, services run, and
`lab down` leaves nothing behind. The last test takes the lab down."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import LAB_CONFIG, ansible_env, ansible_playbook, lab
from hardway_lab.artifacts import pinned_versions
from hardway_lab.services import audit_log


def test_every_machine_answers_ansible_over_ssh(ha_lab):
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "-i", ha_lab.inventory, "all", "-m", "ansible.builtin.setup",
         "-a", "gather_subset=!all,network", "-o"],
        capture_output=True, text=True, env=ansible_env(), check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == 15
    for line in result.stdout.splitlines():
        facts = json.loads(line.split(" => ", 1)[1])["ansible_facts"]
        # A default route is what gives node IP detection something to find.
        assert facts["ansible_default_ipv4"]["address"].startswith(LAB_CONFIG.gateway.rsplit(".", 1)[0] + ".")


def test_inventory_groups_follow_the_design(ha_lab):
    assert ha_lab.group("etcd") == ["etcd-1", "etcd-2", "etcd-3"]
    assert ha_lab.group("etcd_events") == ["etcd-events-1", "etcd-events-2", "etcd-events-3"]
    assert ha_lab.group("kube_apiserver") == ["apiserver-1", "apiserver-2"]
    assert ha_lab.group("apiserver_lb") == ["lb-1"]
    assert ha_lab.group("kube_controller_manager") == ["controller-1", "controller-2"]
    assert ha_lab.group("kube_scheduler") == ["scheduler-1", "scheduler-2"]
    assert ha_lab.group("kube_node") == ["node-1", "node-2"]


def test_machines_reach_each_other_by_name_but_nothing_off_the_bridge(ha_lab):
    assert ha_lab.ssh("etcd-1", "ping -c1 -W2 etcd-events-3").returncode == 0
    chain, bridge = LAB_CONFIG.guard_chain, LAB_CONFIG.bridge
    rules = subprocess.run(["iptables", "-w", "-S", chain], capture_output=True, text=True, check=True).stdout
    assert f"-A {chain} -i {bridge} -o {bridge} -j ACCEPT" in rules
    assert f"-A {chain} -i {bridge} -j DROP" in rules and f"-A {chain} -o {bridge} -j DROP" in rules
    forward = subprocess.run(["iptables", "-w", "-S", "FORWARD"], capture_output=True, text=True, check=True).stdout
    assert f"-A FORWARD -j {chain}" in forward.splitlines()
    # 198.19.255.1 is in the lab's own range (198.18.0.0/15) but not on the bridge: it must not answer.
    assert ha_lab.ssh("node-1", "ping -c1 -W1 198.19.255.1").returncode != 0


def test_the_mirror_serves_the_official_layout(ha_lab):
    versions = pinned_versions()
    base = LAB_CONFIG.mirror_url
    digest = urllib.request.urlopen(f"{base}/kubernetes/release/{versions['kubernetes']}/bin/linux/amd64/kubectl.sha256",
                                    timeout=5).read().decode()
    assert len(digest) == 64
    sums = urllib.request.urlopen(f"{base}/etcd/{versions['etcd']}/SHA256SUMS", timeout=5).read().decode()
    assert sums.strip().endswith(f"etcd-{versions['etcd']}-linux-amd64.tar.gz")


def test_openbao_is_unsealed_and_audits_to_a_file(ha_lab):
    env = dict(ansible_env(), **dict(line.removeprefix("export ").split("=", 1)
                                     for line in lab("vault-env").stdout.splitlines()))
    bao = Path(sys.executable).parent / "bao"
    status = subprocess.run([str(bao), "status", "-format=json"], capture_output=True, text=True, env=env, check=False)
    assert json.loads(status.stdout)["sealed"] is False
    subprocess.run([str(bao), "secrets", "list"], capture_output=True, text=True, env=env, check=True)
    audit = audit_log(LAB_CONFIG)
    assert '"path":"sys/mounts"' in audit.read_text().replace(" ", "")


def test_a_corrupted_mirror_file_fails_the_download_naming_the_file(ha_lab, tmp_path):
    """The download path refuses a binary whose checksum does not match, and says which file."""
    version = pinned_versions()["kubernetes"]
    mirror = LAB_CONFIG.mirror_dir
    good = mirror / "kubernetes" / "release" / version / "bin" / "linux" / "amd64"
    bad = mirror / "corrupt-test" / "release" / version / "bin" / "linux" / "amd64"
    bad.mkdir(parents=True, exist_ok=True)
    (bad / "kubectl").write_bytes((good / "kubectl").read_bytes()[:4096] + b"corrupted")
    (bad / "kubectl.sha256").write_text((good / "kubectl.sha256").read_text())
    playbook = tmp_path / "corrupt.yml"
    playbook.write_text(
        "- hosts: node-1\n  gather_facts: false\n  roles:\n    - role: hardway.kubernetes.download\n"
        "      download_kubernetes_binaries: [kubectl]\n"
        f"      download_kubernetes_base_url: {LAB_CONFIG.mirror_url}/corrupt-test\n"
    )
    try:
        result = ansible_playbook(ha_lab.inventory, playbook)
    finally:
        import shutil  # noqa: PLC0415

        shutil.rmtree(mirror / "corrupt-test")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"{LAB_CONFIG.mirror_url}/corrupt-test/release/{version}/bin/linux/amd64/kubectl" in output
    assert "checksum" in output.lower()
    assert ha_lab.ssh("node-1", "test ! -e /usr/local/bin/kubectl").returncode == 0


def test_a_stopped_machine_keeps_its_disk_and_boots_again(ha_lab):
    assert ha_lab.ssh("node-2", "echo kept > /var/tmp/lab-marker").returncode == 0
    lab("stop", "node-2")
    status = [line.split() for line in lab("status").stdout.splitlines()]
    assert ["node-2", ha_lab.address("node-2"), "stopped"] in [line[:3] for line in status]
    lab("start", "node-2")
    assert ha_lab.ssh("node-2", "cat /var/tmp/lab-marker").stdout.strip() == "kept"


def test_lab_down_leaves_nothing_behind(ha_lab):
    down = lab("down")
    assert "nothing left behind" in down.stdout
    assert subprocess.run(["ip", "link", "show", LAB_CONFIG.bridge], capture_output=True, check=False).returncode != 0
    assert subprocess.run(["iptables", "-w", "-S", LAB_CONFIG.guard_chain], capture_output=True, check=False).returncode != 0
    mounts = Path("/proc/self/mounts").read_text()
    assert str(LAB_CONFIG.machines_dir) not in mounts
    cgroups = subprocess.run(["find", "/sys/fs/cgroup", "-maxdepth", "6", "-name", f"{LAB_CONFIG.cgroup_prefix}*"],
                             capture_output=True, text=True, check=False).stdout
    assert cgroups == ""
    ps = subprocess.run(["ps", "-eo", "stat,args"], capture_output=True, text=True, check=True).stdout
    assert not [line for line in ps.splitlines() if str(LAB_CONFIG.machines_dir) in line and not line.startswith("Z")]
    assert "lab is down" in lab("status", check=False).stdout
