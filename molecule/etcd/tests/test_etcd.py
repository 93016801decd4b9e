"""Both etcd clusters, checked with the real programs on the lab machines."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import testinfra.utils.ansible_runner

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tools" / "lab"))
from hardway_lab.config import LabConfig  # noqa: E402
from hardway_lab.services import audit_log  # noqa: E402

INVENTORY = testinfra.utils.ansible_runner.AnsibleRunner(__import__("os").environ["MOLECULE_INVENTORY_FILE"])
CLUSTERS = {
    "main": {"group": "etcd", "pki": "/etc/etcd/pki", "data": "/var/lib/etcd", "service": "etcd", "peer_cn": "etcd-main-peer"},
    "events": {"group": "etcd_events", "pki": "/etc/etcd-events/pki", "data": "/var/lib/etcd-events",
               "service": "etcd-events", "peer_cn": "etcd-events-peer"},
}


def cluster_of(host) -> dict:
    name = host.backend.get_hostname()
    return CLUSTERS["main" if name in INVENTORY.get_hosts("etcd") else "events"]


def address(name: str) -> str:
    return INVENTORY.get_variables(name)["ansible_host"]


def etcdctl(host, cluster: dict, args: str, endpoint: str | None = None, cert: str | None = "healthcheck-client"):
    pki = cluster["pki"]
    tls = f"--cacert={pki}/ca.crt" + (f" --cert={pki}/{cert}.crt --key={pki}/{cert}.key" if cert else "")
    endpoint = endpoint or "https://127.0.0.1:2379"
    return host.run(f"etcdctl --endpoints={endpoint} {tls} --command-timeout=5s {args}")


def test_the_cluster_is_healthy_over_tls(host):
    cluster = cluster_of(host)
    result = etcdctl(host, cluster, "endpoint health --cluster -w json")
    assert result.rc == 0, result.stderr
    health = json.loads(result.stdout)
    assert len(health) == 3 and all(member["health"] for member in health)
    members = json.loads(etcdctl(host, cluster, "member list -w json").stdout)["members"]
    assert sorted(m["name"] for m in members) == sorted(INVENTORY.get_hosts(cluster["group"]))


def test_the_clusters_are_separate(host):
    cluster = cluster_of(host)
    other = "events" if cluster is CLUSTERS["main"] else "main"
    members = json.loads(etcdctl(host, cluster, "member list -w json").stdout)["members"]
    assert not set(m["name"] for m in members) & set(INVENTORY.get_hosts(CLUSTERS[other]["group"]))


def test_etcd_runs_as_its_own_user_from_a_hardened_unit(host):
    cluster = cluster_of(host)
    service = host.service(cluster["service"])
    assert service.is_running and service.is_enabled
    assert host.process.get(comm="etcd").user == "etcd"
    unit = host.run(f"systemctl show {cluster['service']} -p ProtectSystem -p NoNewPrivileges -p User").stdout
    assert "ProtectSystem=strict" in unit and "NoNewPrivileges=yes" in unit and "User=etcd" in unit


def test_data_directory_and_key_files_are_private(host):
    cluster = cluster_of(host)
    data = host.file(cluster["data"])
    assert data.mode == 0o700 and data.user == "etcd"
    for name in ("server", "peer"):
        key = host.file(f"{cluster['pki']}/{name}.key")
        assert key.mode == 0o600 and key.user == "etcd", name
        assert host.file(f"{cluster['pki']}/{name}.crt").mode == 0o644
    health_key = host.file(f"{cluster['pki']}/healthcheck-client.key")
    assert health_key.mode == 0o600 and health_key.user == "root"


@pytest.mark.parametrize("name", ["server", "peer", "healthcheck-client"])
def test_certificates_have_the_right_names_and_issuer(host, name):
    cluster = cluster_of(host)
    pki = cluster["pki"]
    text = host.run(f"openssl x509 -in {pki}/{name}.crt -noout -subject -issuer -ext subjectAltName").stdout
    me = host.backend.get_hostname()
    if name == "server":
        assert f"CN = {me}" in text or f"CN={me}" in text
        assert f"DNS:{me}" in text and f"IP Address:{address(me)}" in text and "IP Address:127.0.0.1" in text
    elif name == "peer":
        assert re.search(rf"subject=CN ?= ?{cluster['peer_cn']}\b", text)
        assert f"IP Address:{address(me)}" in text
    # Signed by the etcd intermediate in Vault; ca.crt holds only that intermediate (no cross-family trust), hence -partial_chain.
    issuer = re.search(r"issuer=(.*)", text).group(1)
    ca_subject = host.run(f"openssl x509 -in {pki}/ca.crt -noout -subject").stdout
    assert issuer.strip() in ca_subject
    assert host.run(f"openssl verify -partial_chain -CAfile {pki}/ca.crt {pki}/{name}.crt").rc == 0


def test_a_client_without_a_certificate_is_refused(host):
    cluster = cluster_of(host)
    result = etcdctl(host, cluster, "endpoint health", endpoint=f"https://{address(host.backend.get_hostname())}:2379",
                     cert=None)
    assert result.rc != 0


PEER_HANDSHAKE = """
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
ctx.check_hostname = False
ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # ca.crt is the etcd intermediate alone
ctx.load_cert_chain(sys.argv[4], sys.argv[5])
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as raw:
        with ctx.wrap_socket(raw) as tls:
            tls.sendall(b"GET /version HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
            print("accepted" if tls.recv(64).startswith(b"HTTP/1.1") else "refused")
except (ssl.SSLError, ConnectionError, OSError) as exc:
    print("refused", exc)
"""


def _peer_attempt(host, target: str, pki: str) -> str:
    host.run(f"cat > /tmp/peer_handshake.py <<'EOF'\n{PEER_HANDSHAKE}\nEOF")
    return host.run(f"python3 /tmp/peer_handshake.py {address(target)} 2380 {pki}/ca.crt {pki}/peer.crt {pki}/peer.key").stdout


def test_a_main_cluster_peer_certificate_is_refused_by_the_events_cluster():
    etcd_1 = testinfra.get_host("ansible://etcd-1", ansible_inventory=INVENTORY.inventory_file)
    events_2 = testinfra.get_host("ansible://events-2", ansible_inventory=INVENTORY.inventory_file)
    # Control: a member of the events cluster is accepted by its own peers...
    assert _peer_attempt(events_2, "events-1", CLUSTERS["events"]["pki"]).startswith("accepted")
    # ...and a member of the main cluster, with a certificate from the same CA, is not.
    assert _peer_attempt(etcd_1, "events-1", CLUSTERS["main"]["pki"]).startswith("refused")
    assert _peer_attempt(events_2, "etcd-1", CLUSTERS["events"]["pki"]).startswith("refused")


def test_metrics_are_exposed_on_the_member_address(host):
    me = address(host.backend.get_hostname())
    result = host.run(f"python3 -c \"import urllib.request; print(urllib.request.urlopen('http://{me}:2381/metrics').read().decode())\"")
    assert "etcd_server_has_leader 1" in result.stdout


def test_vault_signed_csrs_and_never_issued_keys():
    entries = [json.loads(line) for line in audit_log(LabConfig.from_env()).read_text().splitlines() if line.strip()]
    paths = [e["request"]["path"] for e in entries if e.get("type") == "request"]
    signs = [p for p in paths if re.match(r"molecule-pki-etcd/sign/", p)]
    assert len(signs) >= 18  # 6 members x (server, peer, health-check client)
    assert not [p for p in paths if re.search(r"-pki-[a-z-]+/issue/", p)]
