#!/usr/bin/python
# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_cert
short_description: Keep a host's certificate signed by Vault, with a private key that never leaves the host
version_added: 0.1.0
description:
  - Keeps a private key, a certificate and the issuing CA certificate on the managed host.
  - The private key is generated on the host (ECDSA P-256 unless O(key_type=rsa)) and never leaves it.
    The host builds a certificate signing request; the action plugin on the controller sends only that CSR to
    Vault's C(<mount>/sign/<role>) endpoint (never C(issue)) and hands the signed certificate back to the host.
  - Files are written atomically (temporary file in the same directory, then rename), the key with mode C(0600).
    A failure at any point leaves the previous key and certificate in place.
  - With O(ca=true) the certificate is an intermediate CA whose private key stays on the host, for example the kubelet-signing
    CA of kube-controller-manager (C(--cluster-signing-cert-file)/C(--cluster-signing-key-file)). The CSR goes to
    C(<mount>/root/sign-intermediate) with the subject from O(common_name) (not from the CSR) and the path length from
    O(ca_max_path_length); no Vault role is involved. What Vault returns must be a CA certificate with that name and path
    length, or nothing is installed. O(cert_path) holds exactly this one certificate, O(ca_path) the mount's CA.
  - The certificate is re-issued only when the certificate file is missing or unreadable, the key is missing or does not
    match it, it expires within O(renew_before), its common name, organization or subject alternative names differ from the
    requested ones, it is a CA certificate where a leaf is asked for or the other way round (or a CA with another path
    length), it was not signed by the mount's current CA, or O(force=true).
  - Vault's sign endpoint takes the organization from the Vault role, not from the CSR. O(organization) is therefore what
    the task B(expects); if Vault returns something else, the module fails rather than install a certificate that
    would be re-issued on every run.
  - Works with HashiCorp Vault and OpenBao.
author:
  - hardway.kubernetes contributors (!UNKNOWN)
requirements:
  - cryptography >= 3.1 on the managed host (Debian package C(python3-cryptography)).
  - hvac on the controller.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - hardway.kubernetes._vault
  - hardway.kubernetes._vault.idempotent
attributes:
  check_mode:
    support: full
    details:
      - Reads the files and the mount's CA, reports whether the certificate would be re-issued and why, and neither
        generates a key nor calls Vault's sign endpoint nor writes anything.
  diff_mode:
    support: full
    details:
      - Shows serial, expiry, subject and subject alternative names before and after.
  platform:
    platforms: posix
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  safe_file_operations:
    description: Writes files atomically with the wanted owner, group and mode from the start.
    support: full
  idempotent:
    support: partial
    details:
      - Not idempotent with O(force=true).
options:
  mount:
    description:
      - Path of the Vault PKI secrets engine that signs, for example V(k8s-pki-etcd).
    type: str
    required: true
  role:
    description:
      - Name of the Vault PKI role to sign with, for example V(etcd-main-server).
      - Required unless O(ca=true); not allowed with it.
    type: str
  ca:
    description:
      - Keep an intermediate CA certificate instead of a leaf certificate, signed by C(<mount>/root/sign-intermediate).
      - The Vault token needs C(update) on that path; a policy can pin its parameters (the C(hardway.kubernetes.vault_pki)
        role's rotation policy pins the name pattern of the kubelet-signing CA and a path length of 0).
      - O(organization) and O(subject_alt_name) must be empty.
    type: bool
    default: false
  ca_max_path_length:
    description:
      - With O(ca=true), the path length of the CA certificate (BasicConstraints C(pathLenConstraint)). V(0), the default,
        lets the CA sign leaf certificates only, which is all a kubelet signer needs; V(-1) sets no limit.
      - The issuing CA of O(mount) must allow a CA below it.
    type: int
    default: 0
  common_name:
    description:
      - Subject common name. The Vault role must allow it.
    type: str
    required: true
  organization:
    description:
      - Subject organizations the certificate must carry (Kubernetes groups such as V(system:masters)).
      - Vault's sign endpoint takes them from the Vault role; this is what the task expects the role to set.
    type: list
    elements: str
    default: []
  subject_alt_name:
    description:
      - Subject alternative names as V(DNS:name) and V(IP:address) entries; bare names and addresses are accepted too.
      - See the P(hardway.kubernetes.cert_sans#filter) filter to build the list.
    type: list
    elements: str
    default: []
  ttl:
    description:
      - Requested lifetime, for example V(72h). Vault caps it at the role's C(max_ttl). Default is the role's C(ttl).
    type: str
  renew_before:
    description:
      - Re-issue when the certificate expires within this time.
      - Either a duration (V(24h), V(3d), seconds) or a share of the certificate's lifetime (V(33%) re-issues once less than a
        third of the lifetime is left, that is after two thirds).
    type: str
    default: 33%
  force:
    description:
      - Re-issue even when the certificate is still good.
    type: bool
    default: false
  key_path:
    description:
      - Private key file on the host. Generated when missing; an existing key is reused.
    type: path
    required: true
  cert_path:
    description:
      - Certificate file on the host. It holds exactly one certificate, the one Vault signed, without the chain.
    type: path
    required: true
  ca_path:
    description:
      - File on the host for the issuing CA certificate of O(mount), the trust anchor for this certificate class.
      - It holds only that CA, not the root, so that certificates of the other CAs of the cluster are not trusted.
    type: path
  key_type:
    description:
      - Type of a newly generated key.
    type: str
    choices: [ecdsa, rsa]
    default: ecdsa
  key_size:
    description:
      - Size in bits of a newly generated RSA key.
    type: int
    default: 2048
  rotate_key:
    description:
      - Generate a new private key each time the certificate is re-issued.
      - The new key is staged next to the old one (C(<key_path>.new)) and only replaces it together with the new certificate.
      - With this set, an existing key of another type or size than requested also triggers a re-issue.
      - Without it, an existing key is reused whatever its type; O(key_type) and O(key_size) apply to keys generated because none exists.
    type: bool
    default: false
  owner:
    description:
      - Owner of the key and certificate files. Default is the connecting (or become) user.
      - The CA file holds only public certificates; it belongs to the connecting (or become) user whatever this says, so
        several tasks sharing one CA file with different owners do not undo each other.
    type: str
  group:
    description:
      - Group of the key and certificate files (not of the CA file, see O(owner)).
    type: str
  key_mode:
    description:
      - Mode of the private key file, as an octal string.
    type: str
    default: '0600'
  cert_mode:
    description:
      - Mode of the certificate and CA files, as an octal string.
    type: str
    default: '0644'
  _step:
    description:
      - Internal, set by the action plugin (V(prepare) inspects files and builds the CSR, V(install) writes the signed certificate).
        Setting it in a task is an error.
    type: str
    choices: [prepare, install]
    default: prepare
  _ca_pem:
    description:
      - Internal, set by the action plugin (the mount's current CA certificate). Setting it in a task is an error.
    type: str
  _certificate:
    description:
      - Internal, set by the action plugin (the signed certificate). Setting it in a task is an error.
    type: str
seealso:
  - plugin: hardway.kubernetes.cert_sans
    plugin_type: filter
  - module: community.hashi_vault.vault_login
    description: Log in once (for example with AppRole) and pass the token to many O(token) options.
notes:
  - Each task logs in to Vault once; with O(auth_method=approle) on many hosts, log in once with M(community.hashi_vault.vault_login)
    and pass the token instead, as the C(hardway.kubernetes.cluster_certs) role does.
"""

EXAMPLES = r"""
- name: Keep the etcd server certificate of this host
  hardway.kubernetes.vault_cert:
    url: https://vault.example.internal:8200
    token: "{{ vault_token }}"
    mount: k8s-pki-etcd
    role: etcd-main-server
    common_name: "{{ inventory_hostname }}"
    subject_alt_name: "{{ ['hostnames', 'host_ips', 'localhost'] | hardway.kubernetes.cert_sans(hostnames=[inventory_hostname], host_ips=['198.18.0.11']) }}"
    key_path: /etc/etcd/pki/server.key
    cert_path: /etc/etcd/pki/server.crt
    ca_path: /etc/etcd/pki/ca.crt
    owner: etcd
    group: etcd
  register: etcd_server_cert

- name: Re-issue now (daily rotation), whatever the expiry
  hardway.kubernetes.vault_cert:
    mount: k8s-pki-kubernetes
    role: kube-scheduler
    common_name: system:kube-scheduler
    key_path: /etc/kubernetes/pki/kube-scheduler.key
    cert_path: /etc/kubernetes/pki/kube-scheduler.crt
    ca_path: /etc/kubernetes/pki/ca.crt
    force: true

- name: Keep the kubelet-signing CA of kube-controller-manager (its key never leaves this host)
  hardway.kubernetes.vault_cert:
    mount: k8s-pki-kubernetes
    ca: true
    common_name: k8s kubelet signing CA {{ inventory_hostname }}
    ttl: 8760h
    key_path: /etc/kubernetes/pki/kubelet-signing-ca.key
    cert_path: /etc/kubernetes/pki/kubelet-signing-ca.crt
    ca_path: /etc/kubernetes/pki/ca.crt
"""

RETURN = r"""
reissued:
  description: Whether a new certificate was (or, in check mode, would be) issued.
  returned: success
  type: bool
  sample: true
reasons:
  description: Why the certificate was (or would be) re-issued. Empty when it was kept.
  returned: success
  type: list
  elements: str
  sample: ["certificate file is missing"]
serial:
  description: Serial number of the certificate now in O(cert_path), in Vault's notation. Empty in check mode before the first issue.
  returned: success
  type: str
  sample: "3f:9a:01:c2:7e:44:5b:10:9e:2d:45:1f:0c:6b:aa:52:10:07:9c:e1"
not_after:
  description: Expiry of the certificate now in O(cert_path) (ISO 8601, UTC). Empty in check mode before the first issue.
  returned: success
  type: str
  sample: "2026-11-24T21:41:00+00:00"
subject_alt_name:
  description: Subject alternative names of the certificate now in O(cert_path).
  returned: success
  type: list
  elements: str
  sample: ["DNS:etcd-1", "DNS:localhost", "IP:127.0.0.1", "IP:198.18.0.11"]
key_generated:
  description: Whether a new private key was (or would be) generated on the host.
  returned: success
  type: bool
  sample: false
ca_changed:
  description: Whether the CA file was (or would be) written because the mount's CA differs from it. Components that load
    their trust bundle only at start need a restart then.
  returned: success
  type: bool
  sample: false
"""

import grp
import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardway.kubernetes.plugins.module_utils._certs import (
    HAS_CRYPTOGRAPHY,
    CertError,
    build_csr,
    cert_info,
    cert_pem,
    generate_private_key,
    key_matches_request,
    load_certificates,
    load_private_key,
    private_key_pem,
    public_key_bytes,
    reissue_reasons,
    VAULT_CERT_INTERNAL_OPTIONS,
    VAULT_CERT_REQUIRED_IF,
    check_request,
    split_sans,
    vault_cert_argument_spec,
)
from ansible_collections.hardway.kubernetes.plugins.module_utils._vault import vault_argument_spec


def argument_spec():
    spec = vault_cert_argument_spec()
    spec.update(vault_argument_spec())
    spec.update(VAULT_CERT_INTERNAL_OPTIONS)
    return spec


class HostFiles:
    """Key, certificate and CA files of one vault_cert task on the managed host."""

    def __init__(self, module):
        self.module = module
        p = module.params
        self.key_path, self.cert_path, self.ca_path = p['key_path'], p['cert_path'], p['ca_path']
        self.staged_key_path = self.key_path + '.new'
        self.uid = self._resolve(p['owner'], pwd.getpwnam, 'owner', 'user')
        self.gid = self._resolve(p['group'], grp.getgrnam, 'group', 'group')
        self.key_mode = self._mode('key_mode')
        self.cert_mode = self._mode('cert_mode')
        for path in (self.key_path, self.cert_path, self.ca_path):
            # In check mode a missing directory only means that nothing exists yet.
            if path and not module.check_mode and not os.path.isdir(os.path.dirname(path) or '.'):
                module.fail_json(msg=f'The directory {os.path.dirname(path)} for {path} does not exist; create it first '
                                     '(the cluster_certs role does, with the owner and mode of the certificate table).')

    def _resolve(self, name, lookup, option, what):
        if not name:
            return -1
        if name.isdigit():
            return int(name)
        try:
            entry = lookup(name)
        except KeyError:
            self.module.fail_json(msg=f'{option}: the {what} {name!r} does not exist on {os.uname()[1]}; create it first '
                                      'or set another owner/group.')
        return entry[2]

    def _mode(self, option):
        value = self.module.params[option]
        try:
            mode = int(str(value), 8)
        except ValueError:
            mode = -1
        if not 0 <= mode <= 0o7777:
            self.module.fail_json(msg=f"{option}: {value!r} is not an octal file mode; use e.g. '0600'")
        return mode

    def read(self, path):
        try:
            with open(path, 'rb') as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.module.fail_json(msg=f'Cannot read {path}: {exc.strerror}')

    def _owner(self, path):
        """(uid, gid) wanted for path: the CA file is public and keeps the writer's owner (-1: leave as is)."""
        return (-1, -1) if path == self.ca_path else (self.uid, self.gid)

    def attributes_differ(self, path, mode):
        """True when path exists with another owner, group or mode than wanted."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return False
        uid, gid = self._owner(path)
        return (uid != -1 and st.st_uid != uid) or (gid != -1 and st.st_gid != gid) or (st.st_mode & 0o7777) != mode

    def fix_attributes(self, path, mode):
        uid, gid = self._owner(path)
        try:
            if uid != -1 or gid != -1:
                os.chown(path, uid, gid)
            os.chmod(path, mode)
        except OSError as exc:
            self.module.fail_json(msg=f'Cannot set owner/group/mode of {path}: {exc.strerror}')

    def write(self, path, data, mode):
        """Atomically replace path with data: temporary file in the same directory, fsync, rename."""
        directory = os.path.dirname(path) or '.'
        try:
            fd, tmp = tempfile.mkstemp(prefix=f'.{os.path.basename(path)}.', suffix='.tmp', dir=directory)
        except OSError as exc:
            self.module.fail_json(msg=f'Cannot create a temporary file in {directory}: {exc.strerror}')
        try:
            uid, gid = self._owner(path)
            try:
                os.fchmod(fd, mode)
                if uid != -1 or gid != -1:
                    os.fchown(fd, uid, gid)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as exc:
            if os.path.exists(tmp):
                os.unlink(tmp)
            self.module.fail_json(msg=f'Cannot write {path}: {exc.strerror}')
        try:
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError:  # pragma: no cover - some file systems cannot fsync directories
            pass


def _parse_cert(data, path):
    if data is None:
        return None, None
    try:
        return load_certificates(data, path)[0], None
    except CertError as exc:
        return None, str(exc)


def _normalized_pem(data):
    return b'\n'.join(line.strip() for line in data.strip().splitlines()) if data else b''


def prepare(module, files):
    """Decide, and (outside check mode) generate the key when needed and build the CSR."""
    p = module.params
    result = {'changed': False, 'reissue': False, 'reasons': [], 'key_generated': False, 'staged_key': False,
              'ca_changed': False, 'before': None}
    try:
        check_request(p)  # before anything else
        split_sans(p['subject_alt_name'])
        key = None
        key_data = files.read(files.key_path)
        if key_data is not None:
            key = load_private_key(key_data, files.key_path)
        cert, cert_error = _parse_cert(files.read(files.cert_path), files.cert_path)
        ca_cert = load_certificates(p['_ca_pem'], f"the CA certificate of mount {p['mount']}")[0] if p['_ca_pem'] else None
        request = {'common_name': p['common_name'], 'organization': p['organization'],
                   'subject_alt_name': p['subject_alt_name'], 'renew_before': p['renew_before'],
                   'ca': p['ca'], 'max_path_length': p['ca_max_path_length']}
        if cert_error:
            reasons = [f'certificate file cannot be used: {cert_error}'] + (['force is set'] if p['force'] else [])
        else:
            reasons = reissue_reasons(cert, key, request, ca_cert, force=p['force'])
            result['before'] = cert_info(cert) if cert is not None else None
        wrong_key_type = key is not None and not key_matches_request(key, p['key_type'], p['key_size'])
        if wrong_key_type and p['rotate_key']:
            reasons.append(f"private key is not a {p['key_type']} key of the requested size")
    except CertError as exc:
        module.fail_json(msg=str(exc))

    result['reissue'] = bool(reasons)
    result['reasons'] = reasons
    if p['ca_path'] and p['_ca_pem']:
        result['ca_changed'] = _normalized_pem(files.read(files.ca_path)) != _normalized_pem(p['_ca_pem'].encode())

    for path, mode in ((files.key_path, files.key_mode), (files.cert_path, files.cert_mode), (files.ca_path, files.cert_mode)):
        if path and files.attributes_differ(path, mode):
            result['changed'] = True
            if not module.check_mode:
                files.fix_attributes(path, mode)

    if not reasons:
        return result
    new_key = None
    if key is None:
        result['key_generated'] = True
        if not module.check_mode:
            new_key = generate_private_key(p['key_type'], p['key_size'])
            files.write(files.key_path, private_key_pem(new_key), files.key_mode)
            key = new_key
    elif p['rotate_key']:
        result['key_generated'] = result['staged_key'] = True
        if not module.check_mode:
            key = generate_private_key(p['key_type'], p['key_size'])
            files.write(files.staged_key_path, private_key_pem(key), files.key_mode)
    if result['key_generated']:
        result['changed'] = True
    if not module.check_mode:
        result['csr'] = build_csr(key, p['common_name'], p['organization'], p['subject_alt_name'])
    return result


def install(module, files):
    """Write the signed certificate (and a staged key) after checking that they belong together."""
    p = module.params
    result = {'changed': False, 'ca_changed': False}
    if p['_certificate']:
        try:
            cert = load_certificates(p['_certificate'], 'the certificate signed by Vault')[0]
            staged = files.read(files.staged_key_path)
            key_data = staged if staged is not None else files.read(files.key_path)
            if key_data is None:
                module.fail_json(msg=f'The private key {files.key_path} disappeared while Vault signed its CSR; run again.')
            key = load_private_key(key_data, files.key_path)
        except CertError as exc:
            module.fail_json(msg=str(exc))
        if public_key_bytes(key) != public_key_bytes(cert):
            module.fail_json(msg=f'The certificate signed by Vault does not match the private key {files.key_path} '
                                 '(did another run change the key meanwhile?); nothing was installed, run again.')
        if staged is not None:
            try:
                os.replace(files.staged_key_path, files.key_path)
            except OSError as exc:
                module.fail_json(msg=f'Cannot move the new key into {files.key_path}: {exc.strerror}')
        files.write(files.cert_path, cert_pem(cert), files.cert_mode)
        result['changed'] = True
        result['after'] = cert_info(cert)
    if p['ca_path'] and p['_ca_pem']:
        wanted = p['_ca_pem'].strip().encode() + b'\n'
        if _normalized_pem(files.read(files.ca_path)) != _normalized_pem(wanted):
            files.write(files.ca_path, wanted, files.cert_mode)
            result['changed'] = result['ca_changed'] = True
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), required_if=VAULT_CERT_REQUIRED_IF, supports_check_mode=True)
    if not HAS_CRYPTOGRAPHY and module.check_mode and module.params['_step'] == 'prepare':
        # A check run on a new host: the role installs the library only in a real run.
        module.exit_json(changed=True, reissue=True, ca_changed=True, key_generated=False, before=None,
                         reasons=['the Python cryptography library is not installed yet'])
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg='vault_cert needs the Python cryptography library on the managed host '
                             '(Debian: apt install python3-cryptography).')
    files = HostFiles(module)
    if module.params['_step'] == 'install':
        if module.check_mode:
            module.exit_json(changed=False, msg='install step skipped in check mode')
        module.exit_json(**install(module, files))
    module.exit_json(**prepare(module, files))


if __name__ == '__main__':
    main()
