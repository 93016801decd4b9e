"""Daily rotation on the `ha` lab, after test_ha_control_plane.py deployed it (file order): every
control-plane certificate gets a new serial while a steady load of reads and writes goes through
the load balancer without a single failed request; bad states stop the rotation before any
certificate changes."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import ansible_runner
import hvac
import pytest
import yaml
from conftest import KUBECTL, REPO, ansible_env, changed, lab
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(REPO / "bench"))
from api_load import Load  # noqa: E402

FILES = {
    "etcd": ["/etc/etcd/pki/server.crt", "/etc/etcd/pki/peer.crt", "/etc/etcd/pki/healthcheck-client.crt"],
    "etcd_events": ["/etc/etcd-events/pki/server.crt", "/etc/etcd-events/pki/peer.crt",
                    "/etc/etcd-events/pki/healthcheck-client.crt"],
    "kube_apiserver": [f"/etc/kubernetes/pki/{name}.crt" for name in
                       ("apiserver", "apiserver-kubelet-client", "front-proxy-client", "apiserver-etcd-client")],
    "kube_controller_manager": ["/etc/kubernetes/pki/controller-manager.crt"],
    "kube_scheduler": ["/etc/kubernetes/pki/scheduler.crt"],
}
KUBELET_SIGNING_CA = "/etc/kubernetes/pki/kubelet-signing-ca.crt"
RETIRED_SIGNING_CAS = "/etc/kubernetes/pki/kubelet-signing-ca.retired.crt"
CLIENT_CA_BUNDLE = "/etc/kubernetes/pki/client-ca.crt"


class KubeletCredential:
    """A kubelet client certificate the way TLS bootstrap gets one: a CSR for system:node:<name> with the
    signer kubernetes.io/kube-apiserver-client-kubelet, approved, signed by the leading controller-manager's
    kubelet-signing CA. There is no node role yet, so the test plays the kubelet's part."""

    def __init__(self, kubeconfig: str, directory: Path, node: str):
        self.kubeconfig, self.node = kubeconfig, node
        admin = yaml.safe_load(Path(kubeconfig).read_text())["clusters"][0]["cluster"]
        self.server, self.ca = admin["server"], admin["certificate-authority"]
        key = ec.generate_private_key(ec.SECP256R1())
        self.key_path, self.cert_path = directory / f"{node}.key", directory / f"{node}.crt"
        self.key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                             x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node}")])
        csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
        name = f"{node}-{uuid.uuid4().hex[:8]}"
        manifest = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": name},
                    "spec": {"request": base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode(),
                             "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                             "usages": ["digital signature", "client auth"]}}
        self.kubectl_admin("create", "-f", "-", stdin=json.dumps(manifest))
        self.kubectl_admin("certificate", "approve", name)
        deadline = time.monotonic() + 60
        while not (issued := self.kubectl_admin("get", "csr", name, "-o", "jsonpath={.status.certificate}")):
            assert time.monotonic() < deadline, f"CSR {name} was approved but not signed within 60 s"
            time.sleep(1)
        self.cert_path.write_bytes(base64.b64decode(issued))
        self.cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())

    def kubectl_admin(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run([str(KUBECTL), "--kubeconfig", self.kubeconfig, *args], input=stdin,
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
        return result.stdout.strip()

    def whoami(self) -> str:
        """The user name the apiservers (through the load balancer) see for this certificate, or the error."""
        result = subprocess.run([str(KUBECTL), "--kubeconfig", "/dev/null", "--server", self.server,
                                 "--certificate-authority", self.ca, "--client-certificate", str(self.cert_path),
                                 "--client-key", str(self.key_path), "auth", "whoami", "-o",
                                 "jsonpath={.status.userInfo.username}"],
                                capture_output=True, text=True, check=False)
        return result.stdout.strip() if result.returncode == 0 else result.stderr.strip()

    def issuer_key(self) -> bytes:
        return self.cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier


def key_id(pem: str) -> bytes:
    return x509.load_pem_x509_certificate(pem.encode()).extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier).value.digest


def pem_blocks(text: str) -> list[str]:
    return [block.strip() + "\n-----END CERTIFICATE-----" for block in text.split("-----END CERTIFICATE-----") if "BEGIN" in block]


def read(ha_lab, host: str, path: str) -> str:
    result = ha_lab.ssh(host, f"cat {path}")
    assert result.returncode == 0, f"{host}:{path}: {result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def kubelet(cluster, tmp_path_factory):
    """A kubelet client certificate made before any rotation of this module."""
    return KubeletCredential(cluster["kubeconfig"], tmp_path_factory.mktemp("kubelet"), "e2e-node-1")


def serials(ha_lab, files_by_group: dict[str, list[str]]) -> dict[str, str]:
    found = {}
    for group, files in files_by_group.items():
        for host in ha_lab.group(group):
            command = "; ".join(f"openssl x509 -noout -serial -in {path}" for path in files)
            result = ha_lab.ssh(host, command)
            assert result.returncode == 0, f"{host}: {result.stderr}"
            for path, line in zip(files, result.stdout.split()):
                found[f"{host}:{path}"] = line.split("=", 1)[1]
    return found


def playbook(ha_lab, name: str, *args: str, env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    vault = json.loads(lab("vault-env", "--json").stdout)
    started = time.monotonic()
    result = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", ha_lab.inventory,
                             str(REPO / "playbooks" / name), *args],
                            capture_output=True, text=True, env={**ansible_env(), **vault, **(env or {})}, cwd=REPO, check=False)
    return time.monotonic() - started, result


def output(result) -> str:
    return " ".join((result.stdout + result.stderr).split())


def test_vault_down_before_the_run_changes_nothing(cluster):
    ha_lab = cluster["lab"]
    before = serials(ha_lab, FILES)
    lab("service", "stop", "openbao")
    try:
        result = playbook(ha_lab, "rotate_certs.yml")[1]
    finally:
        lab("service", "start", "openbao")
    assert result.returncode != 0
    assert "cannot be used" in output(result) and "no host was changed" in output(result)
    assert serials(ha_lab, FILES) == before


def test_an_etcd_member_down_refuses_the_rotation_naming_it(cluster):
    ha_lab = cluster["lab"]
    member = ha_lab.group("etcd")[-1]
    before = serials(ha_lab, {key: value for key, value in FILES.items() if key != "etcd"})
    assert ha_lab.ssh(member, "systemctl stop etcd").returncode == 0
    try:
        result = playbook(ha_lab, "rotate_certs.yml")[1]
    finally:
        ha_lab.ssh(member, "systemctl start etcd")
    assert result.returncode != 0
    assert f"etcd member {member} is not healthy" in output(result)
    assert "no certificate was changed" in output(result)
    assert serials(ha_lab, {key: value for key, value in FILES.items() if key != "etcd"}) == before


def broken_pairs(ha_lab) -> list[str]:
    """Certificates whose private key does not match them (empty when every pair is whole)."""
    broken = []
    for group, files in FILES.items():
        for host in ha_lab.group(group):
            for path in files:
                key = path[:-4] + ".key"
                check = ha_lab.ssh(host, f"test \"$(openssl x509 -noout -pubkey -in {path})\" = \"$(openssl pkey -pubout -in {key})\"")
                if check.returncode != 0:
                    broken.append(f"{host}:{path}")
    return broken


def unhealthy(ha_lab) -> list[str]:
    """What is not healthy: etcd members, apiservers on their hosts."""
    problems = []
    for group, pki in (("etcd", "/etc/etcd/pki"), ("etcd_events", "/etc/etcd-events/pki")):
        for host in ha_lab.group(group):
            check = ha_lab.ssh(host, f"etcdctl --endpoints=https://127.0.0.1:2379 --cacert={pki}/ca.crt "
                                     f"--cert={pki}/healthcheck-client.crt --key={pki}/healthcheck-client.key endpoint health")
            if check.returncode != 0:
                problems.append(f"etcd {host}")
    for host in ha_lab.group("kube_apiserver"):
        if ha_lab.ssh(host, "curl -sSf --cacert /etc/kubernetes/pki/ca.crt https://127.0.0.1:6443/readyz").returncode != 0:
            problems.append(f"apiserver {host}")
    return problems


def test_vault_lost_in_the_middle_leaves_whole_pairs_and_the_next_run_completes(cluster, tmp_path):
    ha_lab = cluster["lab"]
    before = serials(ha_lab, FILES)
    vault = json.loads(lab("vault-env", "--json").stdout)
    log = tmp_path / "rotate.log"
    with log.open("w") as handle:
        run = subprocess.Popen([str(Path(sys.executable).parent / "ansible-playbook"), "-i", ha_lab.inventory,
                                str(REPO / "playbooks" / "rotate_certs.yml")],
                               stdout=handle, stderr=subprocess.STDOUT, env={**ansible_env(), **vault}, cwd=REPO)
        try:
            deadline = time.monotonic() + 600
            while "PLAY [The apiservers" not in log.read_text() and run.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
            lab("service", "stop", "openbao")
            run.wait(timeout=900)
        finally:
            lab("service", "start", "openbao")
    assert run.returncode != 0, "the rotation did not notice that Vault went away"
    broken = broken_pairs(ha_lab)
    assert not broken, f"key and certificate do not match: {broken}"
    assert not unhealthy(ha_lab), unhealthy(ha_lab)
    after_fault = serials(ha_lab, FILES)
    assert any(after_fault[name] != before[name] for name in before), "nothing was rotated before the fault"
    assert any(after_fault[name] == before[name] for name in before), "everything was rotated before the fault"
    result = playbook(ha_lab, "rotate_certs.yml")[1]
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    after = serials(ha_lab, FILES)
    assert not [name for name in before if before[name] == after[name]]


def rotation_approle(cluster_name: str = "kubernetes") -> dict[str, str]:
    """Role ID and a fresh secret ID of the rotation AppRole that hardway.kubernetes.vault_pki made."""
    vault = json.loads(lab("vault-env", "--json").stdout)
    client = hvac.Client(url=vault["VAULT_ADDR"], token=vault["VAULT_TOKEN"], verify=vault["VAULT_CACERT"])
    role = f"{cluster_name}-cert-rotation"
    return {"role_id": client.auth.approle.read_role_id(role_name=role)["data"]["role_id"],
            "secret_id": client.auth.approle.generate_secret_id(role_name=role)["data"]["secret_id"],
            "addr": vault["VAULT_ADDR"], "cacert": vault["VAULT_CACERT"]}


def run_like_awx(ha_lab, tmp_path, playbook_name: str):
    """Run a playbook the way AWX runs a job: ansible-runner, Vault address and CA in the environment,
    the AppRole credential as extra variables (awx/configure.yml's credential type injects these)."""
    approle = rotation_approle()
    env = {key: value for key, value in ansible_env().items() if not key.startswith("VAULT_")}
    env.update({"VAULT_ADDR": approle["addr"], "VAULT_CACERT": approle["cacert"]})
    (tmp_path / "runner").mkdir()
    started = time.monotonic()
    run = ansible_runner.run(
        private_data_dir=str(tmp_path / "runner"), project_dir=str(REPO), playbook=str(REPO / "playbooks" / playbook_name),
        inventory=ha_lab.inventory, envvars=env, quiet=True,
        extravars={"cluster_certs_vault_auth_method": "approle", "cluster_certs_vault_role_id": approle["role_id"],
                   "cluster_certs_vault_secret_id": approle["secret_id"]})
    return time.monotonic() - started, run


def test_rotation_under_load_changes_every_serial_and_fails_no_request(cluster, kubelet, tmp_path):
    ha_lab = cluster["lab"]
    assert kubelet.whoami() == "system:node:e2e-node-1"
    before = serials(ha_lab, FILES)
    signing_before = serials(ha_lab, {"kube_controller_manager": [KUBELET_SIGNING_CA]})
    load = Load(cluster["kubeconfig"], rate=25).start()
    try:
        seconds, run = run_like_awx(ha_lab, tmp_path, "rotate_certs.yml")
    finally:
        summary = load.stop()
    print(f"\nrotate_certs.yml on ha through ansible-runner with the rotation AppRole: {seconds:.1f}s; "
          f"load: {json.dumps(summary)}")
    assert run.status == "successful" and run.rc == 0, run.stdout.read()[-8000:]
    assert summary["failures"] == 0, summary
    assert summary["rate_per_s"] >= 20, summary
    after = serials(ha_lab, FILES)
    unchanged = sorted(name for name in before if before[name] == after[name])
    assert not unchanged, f"not rotated: {unchanged}"
    # The kubelet-signing CA has its own, longer schedule, and a kubelet's certificate outlives the rotation.
    assert serials(ha_lab, {"kube_controller_manager": [KUBELET_SIGNING_CA]}) == signing_before
    assert kubelet.whoami() == "system:node:e2e-node-1"


def test_kubelet_signing_ca_gets_a_new_key_and_the_old_one_stays_trusted(cluster, kubelet, tmp_path):
    ha_lab = cluster["lab"]
    managers, apiservers = ha_lab.group("kube_controller_manager"), ha_lab.group("kube_apiserver")
    old = {host: read(ha_lab, host, KUBELET_SIGNING_CA).strip() for host in managers}
    assert kubelet.issuer_key() in {key_id(pem) for pem in old.values()}
    seconds, result = playbook(ha_lab, "rotate_kubelet_signing_ca.yml", "-e", "kube_controller_manager_signing_ca_force=true")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    print(f"\nrotate_kubelet_signing_ca.yml (forced) on ha: {seconds:.1f}s")
    new = {host: read(ha_lab, host, KUBELET_SIGNING_CA).strip() for host in managers}
    for host in managers:
        assert key_id(new[host]) != key_id(old[host]), f"{host}: the kubelet-signing CA kept its key"
        assert old[host] in pem_blocks(read(ha_lab, host, RETIRED_SIGNING_CAS)), f"{host}: the old CA was not retired"
        assert ha_lab.ssh(host, "ls /etc/kubernetes/pki/kubelet-signing-ca.next.*").returncode != 0, f"{host}: staged files left"
    for host in apiservers:
        bundle = pem_blocks(read(ha_lab, host, CLIENT_CA_BUNDLE))
        missing = [name for name, pem in [*(("old " + h, p) for h, p in old.items()), *(("new " + h, p) for h, p in new.items())]
                   if pem not in bundle]
        assert not missing, f"{host}: the client CA bundle lacks {missing}"
    # The overlap: a certificate from the old CA still authenticates, and new ones come from a new CA.
    assert kubelet.whoami() == "system:node:e2e-node-1"
    new_keys, started = {key_id(pem) for pem in new.values()}, time.monotonic()
    while (fresh := KubeletCredential(cluster["kubeconfig"], tmp_path, "e2e-node-2")).issuer_key() not in new_keys:
        assert time.monotonic() - started < 120, "kube-controller-manager still signs with the old CA after 120 s"
        time.sleep(5)
    print(f"new kubelet certificates came from the new CA after {time.monotonic() - started:.0f}s")
    assert fresh.whoami() == "system:node:e2e-node-2"
    # Nothing is due now: a run without force changes nothing.
    again = playbook(ha_lab, "rotate_kubelet_signing_ca.yml")[1]
    assert again.returncode == 0 and changed(again.stdout) == 0, again.stdout[-6000:]


def test_cert_report_lists_every_certificate_and_alerts_below_the_threshold(cluster):
    ha_lab = cluster["lab"]
    result = playbook(ha_lab, "cert_report.yml")[1]
    assert result.returncode == 0, result.stdout[-4000:]
    for host in ha_lab.group("kube_apiserver") + ha_lab.group("etcd_events"):
        assert host in result.stdout
    # Every rotated certificate plus each controller-manager's kubelet-signing CA.
    count = sum(len(files) * len(ha_lab.group(group)) for group, files in FILES.items()) + len(ha_lab.group("kube_controller_manager"))
    assert f"{count} certificates, all with at least 1 days left" in output(result)
    alert = playbook(ha_lab, "cert_report.yml", "-e", "cert_report_min_days=400")[1]
    assert alert.returncode != 0
    assert "fewer than 400 days left" in output(alert)
