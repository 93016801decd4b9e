"""End to end on the `ha` lab: playbooks/site.yml deploys the whole control plane, a second run
changes nothing, and the real programs show that it works: the API through the load balancer,
leader election on the right hosts, events in the events etcd only, failover of the scheduler
and of an apiserver."""
from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

from conftest import KUBECTL, LAB_CONFIG, changed

ETCDCTL = ("etcdctl --endpoints=https://127.0.0.1:2379 --cacert={pki}/ca.crt --cert={pki}/healthcheck-client.crt "
           "--key={pki}/healthcheck-client.key")


def kubectl(cluster, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(KUBECTL), "--kubeconfig", cluster["kubeconfig"], "--request-timeout=10s", *args],
                            input=stdin, capture_output=True, text=True, check=False)
    if check:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stdout}{result.stderr}"
    return result


def holder(cluster, lease: str) -> str:
    spec = json.loads(kubectl(cluster, "-n", "kube-system", "get", "lease", lease, "-o", "json").stdout)["spec"]
    return spec["holderIdentity"].split("_", 1)[0]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def test_second_run_changes_nothing(cluster):
    recap = cluster["second"].stdout[cluster["second"].stdout.rindex("PLAY RECAP"):]
    assert changed(recap) == 0, recap


def test_lab_kubeconfig_prints_the_admin_kubeconfig(cluster):
    config = Path(cluster["kubeconfig"])
    assert config == LAB_CONFIG.admin_kubeconfig and config.is_file()
    text = config.read_text()
    # Certificates by path, never embedded, so rotated files are picked up.
    assert "client-certificate: " in text and "-data:" not in text


def test_readyz_through_the_load_balancer(cluster):
    lb = cluster["lab"].address(cluster["lab"].group("apiserver_lb")[0])
    assert f"server: https://{lb}:6443" in Path(cluster["kubeconfig"]).read_text()
    assert kubectl(cluster, "get", "--raw", "/readyz").stdout.strip() == "ok"


def test_every_apiserver_is_ready_on_its_own_host(cluster):
    for host in cluster["lab"].group("kube_apiserver"):
        result = cluster["lab"].ssh(host, "curl -sSf --cacert /etc/kubernetes/pki/ca.crt https://127.0.0.1:6443/readyz")
        assert result.returncode == 0 and result.stdout.strip() == "ok", f"{host}: {result.stdout}{result.stderr}"


def test_anonymous_requests_reach_only_the_health_endpoints(cluster):
    host = cluster["lab"].group("kube_apiserver")[0]
    ok = cluster["lab"].ssh(host, "curl -s -o /dev/null -w '%{http_code}' --cacert /etc/kubernetes/pki/ca.crt https://127.0.0.1:6443/livez")
    denied = cluster["lab"].ssh(host, "curl -s -o /dev/null -w '%{http_code}' --cacert /etc/kubernetes/pki/ca.crt https://127.0.0.1:6443/version")
    assert ok.stdout.strip() == "200"
    assert denied.stdout.strip() == "401"


def test_the_load_balancer_sees_every_apiserver_up(cluster):
    stat = cluster["lab"].ssh(cluster["lab"].group("apiserver_lb")[0], "echo 'show stat' | socat stdio /run/haproxy/admin.sock")
    assert stat.returncode == 0, stat.stderr
    rows = [line.split(",") for line in stat.stdout.splitlines() if not line.startswith("#")]
    servers = {row[1]: row[17] for row in rows if len(row) > 17 and row[1] not in ("FRONTEND", "BACKEND")}
    for host in cluster["lab"].group("kube_apiserver"):
        assert servers.get(host) == "UP", f"{host} is not UP in HAProxy: {servers}"


def test_leases_are_held_by_hosts_of_their_own_groups(cluster):
    assert holder(cluster, "kube-controller-manager") in cluster["lab"].group("kube_controller_manager")
    assert holder(cluster, "kube-scheduler") in cluster["lab"].group("kube_scheduler")


def test_events_are_stored_in_the_events_etcd_only(cluster):
    name = f"hardway-{uuid.uuid4().hex[:8]}"
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": "default"},
             "involvedObject": {"kind": "Namespace", "name": "default", "apiVersion": "v1"},
             "reason": "EndToEnd", "message": "stored in the events etcd", "type": "Normal"}
    kubectl(cluster, "create", "-f", "-", stdin=json.dumps(event))
    events_host, main_host = cluster["lab"].group("etcd_events")[0], cluster["lab"].group("etcd")[0]
    in_events = cluster["lab"].ssh(events_host, ETCDCTL.format(pki="/etc/etcd-events/pki") + " get /registry/events --prefix --keys-only")
    in_main = cluster["lab"].ssh(main_host, ETCDCTL.format(pki="/etc/etcd/pki") + " get /registry/events --prefix --keys-only")
    assert in_events.returncode == 0 and in_main.returncode == 0, in_events.stderr + in_main.stderr
    assert f"/registry/events/default/{name}" in in_events.stdout.split()
    assert in_main.stdout.strip() == "", f"the main etcd holds events: {in_main.stdout[:500]}"


def test_secrets_are_encrypted_in_etcd(cluster):
    name = f"hardway-{uuid.uuid4().hex[:8]}"
    kubectl(cluster, "-n", "default", "create", "secret", "generic", name, "--from-literal=password=plain-text-marker")
    get = ETCDCTL.format(pki="/etc/etcd/pki") + f" get /registry/secrets/default/{name} --print-value-only"
    etcd = cluster["lab"].group("etcd")[0]
    prefix = cluster["lab"].ssh(etcd, f"{get} | head -c 21")
    assert prefix.returncode == 0, prefix.stderr
    assert prefix.stdout == "k8s:enc:secretbox:v1:"
    # The value is binary: count matches of the plain text on the host instead of decoding it here.
    assert cluster["lab"].ssh(etcd, f"{get} | grep -a -c plain-text-marker").stdout.strip() == "0"


def test_the_scheduler_lease_moves_when_the_active_one_stops(cluster):
    active = holder(cluster, "kube-scheduler")
    cluster["lab"].ssh(active, "systemctl stop kube-scheduler")
    try:
        other = wait_for(lambda: (h := holder(cluster, "kube-scheduler")) != active and h, 90, "the scheduler lease to move")
        assert other in cluster["lab"].group("kube_scheduler")
    finally:
        cluster["lab"].ssh(active, "systemctl start kube-scheduler")


def test_the_api_stays_reachable_with_one_apiserver_stopped(cluster):
    stopped = cluster["lab"].group("kube_apiserver")[0]
    assert cluster["lab"].ssh(stopped, "systemctl stop kube-apiserver").returncode == 0
    try:
        failures = []
        deadline = time.monotonic() + 20
        count = 0
        while time.monotonic() < deadline:
            result = kubectl(cluster, "get", "--raw", "/readyz", check=False)
            count += 1
            if result.returncode != 0:
                failures.append(result.stderr.strip())
        assert not failures, f"{len(failures)} of {count} requests failed with {stopped} stopped: {failures[:3]}"
        assert kubectl(cluster, "-n", "kube-system", "get", "lease", "kube-scheduler", "-o", "name").stdout.strip()
    finally:
        cluster["lab"].ssh(stopped, "systemctl start kube-apiserver")
        wait_for(lambda: cluster["lab"].ssh(
            stopped, "curl -sSf --cacert /etc/kubernetes/pki/ca.crt https://127.0.0.1:6443/readyz").returncode == 0,
            120, f"{stopped} to be ready again")
