"""Bad input stops the etcd play before any host changes, with a message naming the problem."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, ansible_env, lab

PLAYBOOKS = Path(__file__).parent / "playbooks"
UNTOUCHED = "test ! -e /usr/local/bin/etcd && ! id etcd 2>/dev/null && test ! -e /etc/etcd && test ! -e /etc/etcd-events"


def run_etcd(ha_lab, tmp_path, extra_inventory: dict | None = None, env: dict | None = None, *args: str,
             playbook: str = "etcd.yml"):
    sources = ["-i", ha_lab.inventory]
    if extra_inventory:
        extra = tmp_path / "extra.yml"
        extra.write_text(json.dumps(extra_inventory))
        sources += ["-i", str(extra)]
    vault = json.loads(lab("vault-env", "--json").stdout)
    environment = {**ansible_env(), **vault, **(env or {})}
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), *sources, str(PLAYBOOKS / playbook), *args],
                          capture_output=True, text=True, env=environment, cwd=REPO, check=False)


def assert_untouched(ha_lab, hosts):
    for host in hosts:
        assert ha_lab.ssh(host, UNTOUCHED).returncode == 0, f"{host} was changed"


def output(result) -> str:
    return " ".join((result.stdout + result.stderr).split())


def test_a_host_in_both_clusters_is_refused(ha_lab, tmp_path):
    result = run_etcd(ha_lab, tmp_path, {"etcd_events": {"hosts": {"etcd-1": {}}}})
    assert result.returncode != 0
    assert "etcd-1 is in both 'etcd' and 'etcd_events'" in output(result)
    assert_untouched(ha_lab, ha_lab.group("etcd") + ha_lab.group("etcd_events"))


def test_a_missing_group_is_named(ha_lab, tmp_path):
    result = run_etcd(ha_lab, tmp_path, None, None, "-e", "etcd_events_group=etcd_events_dc2")
    assert result.returncode != 0
    assert "inventory group 'etcd_events_dc2' is missing or empty" in output(result)
    assert_untouched(ha_lab, ha_lab.group("etcd"))


def test_an_even_cluster_is_an_error_when_asked(ha_lab, tmp_path):
    result = run_etcd(ha_lab, tmp_path, {"etcd": {"hosts": {"apiserver-1": {}}}}, None, "-e", "etcd_require_odd_size=true")
    assert result.returncode != 0
    assert "etcd group 'etcd' has 4 hosts" in output(result)
    assert "This is an error because etcd_require_odd_size is true" in output(result)
    assert_untouched(ha_lab, ha_lab.group("etcd") + ["apiserver-1"])


@pytest.mark.parametrize("unusable", ["unreachable", "bad token"])
def test_vault_unusable_stops_the_play_before_any_host_changes(ha_lab, tmp_path, unusable):
    if unusable == "unreachable":
        vault_addr = f"https://{ha_lab.gateway}:8299"  # nothing listens there
        result = run_etcd(ha_lab, tmp_path, None, {"VAULT_ADDR": vault_addr})
    else:
        vault_addr = json.loads(lab("vault-env", "--json").stdout)["VAULT_ADDR"]
        result = run_etcd(ha_lab, tmp_path, None, {"VAULT_TOKEN": "not-a-token"})
    text = output(result)
    assert result.returncode != 0
    assert vault_addr in text, text[-3000:]
    assert ("token" in text.lower()) if unusable == "bad token" else ("connect" in text.lower() or "refused" in text.lower())
    assert_untouched(ha_lab, ha_lab.group("etcd") + ha_lab.group("etcd_events"))


def test_an_even_cluster_warns_and_goes_on(ha_lab, tmp_path):
    """Check mode against a prepared Vault: the warning is printed and the play succeeds without changing a host."""
    prepared = run_etcd(ha_lab, tmp_path, playbook="vault_pki.yml")
    assert prepared.returncode == 0, prepared.stdout[-3000:]
    result = run_etcd(ha_lab, tmp_path, {"etcd": {"hosts": {"apiserver-1": {}}}}, None, "--check")
    assert result.returncode == 0, output(result)[-3000:]
    assert "etcd group 'etcd' has 4 hosts" in output(result)
    assert "Continuing: set etcd_require_odd_size to true to make this an error" in output(result)
    assert_untouched(ha_lab, ha_lab.group("etcd") + ["apiserver-1"])
