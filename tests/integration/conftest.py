"""Fixtures for tests that run on the lab: real machines, real binaries."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "tools" / "lab" / "lab"
sys.path.insert(0, str(LAB.parent))

from hardway_lab.artifacts import pinned_versions  # noqa: E402
from hardway_lab.config import LabConfig  # noqa: E402

LAB_CONFIG = LabConfig.from_env()
# The `ha` topology; a JSON topology with the same groups can stand in while developing
# (machine names are global to the machine, so a second lab needs names of its own).
HA_TOPOLOGY = os.environ.get("HARDWAY_TEST_HA_TOPOLOGY", "ha")


def lab(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(LAB), *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"lab {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def ansible_env() -> dict[str, str]:
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO / ".cache" / "collections")  # tests/quality/install_collections.sh
    env["ANSIBLE_HOST_KEY_CHECKING"] = "false"
    env["ANSIBLE_PIPELINING"] = "true"
    env["ANSIBLE_SSH_ARGS"] = "-o ControlMaster=auto -o ControlPersist=60s"
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def ansible_playbook(inventory: str, playbook: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", inventory, str(playbook), *args],
        capture_output=True, text=True, env=ansible_env(), cwd=REPO, check=False,
    )


class Lab:
    def __init__(self, topology: str, boot_seconds: float):
        self.topology = topology
        self.boot_seconds = boot_seconds
        self.inventory = lab("inventory").stdout.strip()
        self.hosts = json.loads(
            subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", self.inventory, "--list"],
                           capture_output=True, text=True, check=True, env=ansible_env()).stdout
        )

    @property
    def gateway(self) -> str:
        return LAB_CONFIG.gateway

    def address(self, host: str) -> str:
        return self.hosts["_meta"]["hostvars"][host]["ansible_host"]

    def group(self, name: str) -> list[str]:
        return sorted(self.hosts.get(name, {}).get("hosts", []))

    def ssh(self, host: str, command: str) -> subprocess.CompletedProcess:
        return lab("ssh", host, "--", command, check=False)


@pytest.fixture(scope="session")
def ha_lab():
    """The `ha` topology, booted once for every test that can share it."""
    started = time.monotonic()
    lab("up", "--topology", HA_TOPOLOGY)
    booted = Lab(HA_TOPOLOGY, time.monotonic() - started)
    print(f"\nlab up --topology {HA_TOPOLOGY}: {booted.boot_seconds:.1f}s")
    yield booted
    lab("down", check=False)


KUBECTL = LAB_CONFIG.mirror_dir / "kubernetes" / "release" / pinned_versions()["kubernetes"] / "bin" / "linux" / "amd64" / "kubectl"


def changed(recap: str) -> int:
    return sum(int(n) for n in re.findall(r"\bchanged=(\d+)", recap))


def site(ha_lab) -> tuple[float, subprocess.CompletedProcess]:
    vault = json.loads(lab("vault-env", "--json").stdout)
    started = time.monotonic()
    result = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", ha_lab.inventory,
                             str(REPO / "playbooks" / "site.yml")],
                            capture_output=True, text=True, env={**ansible_env(), **vault}, cwd=REPO, check=False)
    return time.monotonic() - started, result


@pytest.fixture(scope="session")
def cluster(ha_lab):
    """site.yml twice on the ha lab; the kubeconfig and both runs for the tests."""
    first_time, first = site(ha_lab)
    assert first.returncode == 0, first.stdout[-8000:] + first.stderr[-3000:]
    second_time, second = site(ha_lab)
    assert second.returncode == 0, second.stdout[-8000:] + second.stderr[-3000:]
    print(f"\nsite.yml on ha: first run {first_time:.1f}s ({changed(first.stdout)} changed), "
          f"second run {second_time:.1f}s ({changed(second.stdout)} changed)")
    return {"kubeconfig": lab("kubeconfig").stdout.strip(), "second": second, "lab": ha_lab}
