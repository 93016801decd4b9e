# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Tests for the host side of hardway.kubernetes.vault_cert (plugins/modules/vault_cert.py).

The module runs its two steps (prepare: decide, make the key, build the CSR;
install: write what Vault signed) against files in a temporary directory. A
CA made here with `cryptography` stands in for Vault's sign endpoint.
"""

from __future__ import annotations

import datetime
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.hardway.kubernetes.plugins.modules import vault_cert
from ansible_collections.hardway.kubernetes.plugins.module_utils._certs import VAULT_CERT_INTERNAL_OPTIONS, vault_cert_argument_spec


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, check_mode=False, **params):
        spec = vault_cert_argument_spec()
        spec.update(VAULT_CERT_INTERNAL_OPTIONS)
        self.params = {name: option.get('default') for name, option in spec.items()}
        self.params.update(params)
        self.check_mode = check_mode

    def fail_json(self, msg, **kwargs):
        raise Failed(msg)


def _ca():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'test etcd CA')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    return key, cert


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def sign(ca, csr_pem, hours=72):
    """What Vault's sign endpoint does with use_csr_common_name/use_csr_sans."""
    ca_key, ca_cert = ca
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca_cert.subject).public_key(csr.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(seconds=30))
               .not_valid_after(now + datetime.timedelta(hours=hours)))
    for ext in csr.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    return _pem(builder.sign(ca_key, hashes.SHA256()))


@pytest.fixture(name='ca')
def fixture_ca():
    return _ca()


@pytest.fixture(name='params')
def fixture_params(tmp_path, ca):
    return {
        'mount': 'lab-pki-etcd', 'role': 'etcd-main-server', 'common_name': 'etcd-1',
        'subject_alt_name': ['DNS:etcd-1', 'IP:198.18.0.11'],
        'key_path': str(tmp_path / 'server.key'), 'cert_path': str(tmp_path / 'server.crt'), 'ca_path': str(tmp_path / 'ca.crt'),
        '_ca_pem': _pem(ca[1]),
    }


def run(step, check_mode=False, **params):
    module = FakeModule(check_mode=check_mode, _step=step, **params)
    files = vault_cert.HostFiles(module)
    return (vault_cert.prepare if step == 'prepare' else vault_cert.install)(module, files)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def issue(ca, params, **extra):
    prep = run('prepare', **dict(params, **extra))
    assert prep['reissue']
    return prep, run('install', **dict(params, _certificate=sign(ca, prep['csr']), **extra))


def test_first_run_makes_key_and_csr_then_installs(tmp_path, ca, params):
    prep = run('prepare', **params)
    assert prep['reissue'] and prep['key_generated'] and prep['reasons'] == ['certificate file is missing']
    assert mode(params['key_path']) == 0o600
    csr = x509.load_pem_x509_csr(prep['csr'].encode())
    assert csr.subject.rfc4514_string() == 'CN=etcd-1'
    key = serialization.load_pem_private_key(open(params['key_path'], 'rb').read(), None)
    assert csr.public_key().public_numbers() == key.public_key().public_numbers()
    installed = run('install', **dict(params, _certificate=sign(ca, prep['csr'])))
    assert installed['changed'] and installed['ca_changed']
    assert installed['after']['subject_alt_name'] == ['DNS:etcd-1', 'IP:198.18.0.11']
    assert mode(params['cert_path']) == 0o644 and mode(params['ca_path']) == 0o644
    assert open(params['ca_path']).read() == params['_ca_pem']
    assert sorted(os.listdir(tmp_path)) == ['ca.crt', 'server.crt', 'server.key']  # no temporary files left
    again = run('prepare', **params)
    assert again == {'changed': False, 'reissue': False, 'reasons': [], 'key_generated': False, 'staged_key': False,
                     'ca_changed': False, 'before': again['before']}
    assert again['before']['serial'] == installed['after']['serial']


def test_check_mode_writes_nothing(tmp_path, params):
    prep = run('prepare', check_mode=True, **params)
    assert prep['reissue'] and prep['key_generated'] and 'csr' not in prep
    assert os.listdir(tmp_path) == []
    missing_dir = dict(params, key_path=str(tmp_path / 'no' / 'k'), cert_path=str(tmp_path / 'no' / 'c'))
    assert run('prepare', check_mode=True, **missing_dir)['reissue']
    with pytest.raises(Failed, match=f"The directory {tmp_path / 'no'} for .* does not exist"):
        run('prepare', **missing_dir)


def test_existing_key_is_reused_and_changed_sans_reissue(ca, params):
    issue(ca, params)
    key_before = open(params['key_path'], 'rb').read()
    changed = dict(params, subject_alt_name=['DNS:etcd-1', 'IP:198.18.0.11', 'IP:198.18.0.12'])
    prep, dummy = issue(ca, changed)
    assert prep['reasons'] == ['IP SANs differ: missing 198.18.0.12'] and not prep['key_generated']
    assert open(params['key_path'], 'rb').read() == key_before
    assert not run('prepare', **changed)['reissue']


def test_new_ca_reissues_and_rewrites_the_ca_file(ca, params):
    issue(ca, params)
    new_ca = _ca()
    moved = dict(params, _ca_pem=_pem(new_ca[1]))
    prep = run('prepare', **moved)
    assert prep['ca_changed'] and prep['reasons'][0].startswith("certificate was issued by 'CN=test etcd CA', not by the current CA")
    installed = run('install', **dict(moved, _certificate=sign(new_ca, prep['csr'])))
    assert installed['ca_changed'] and open(params['ca_path']).read() == moved['_ca_pem']


def test_install_refuses_a_certificate_for_another_key(ca, params):
    issue(ca, params)
    cert_before = open(params['cert_path']).read()
    stranger = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'etcd-1')]))
           .sign(stranger, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
    with pytest.raises(Failed, match='does not match the private key .*nothing was installed'):
        run('install', **dict(params, _certificate=sign(ca, csr)))
    assert open(params['cert_path']).read() == cert_before


def test_rotate_key_stages_the_new_key_until_install(tmp_path, ca, params):
    issue(ca, params)
    old_key = open(params['key_path'], 'rb').read()
    rotating = dict(params, rotate_key=True, force=True)
    prep = run('prepare', **rotating)
    assert prep['staged_key'] and prep['reasons'] == ['force is set']
    staged = params['key_path'] + '.new'
    assert mode(staged) == 0o600 and open(params['key_path'], 'rb').read() == old_key  # old pair still in place
    run('install', **dict(rotating, _certificate=sign(ca, prep['csr'])))
    assert not os.path.exists(staged) and open(params['key_path'], 'rb').read() != old_key
    assert run('prepare', **params)['reasons'] == []  # new key and new certificate belong together


def test_wrong_modes_are_fixed_and_reported(ca, params):
    issue(ca, params)
    os.chmod(params['key_path'], 0o644)
    assert run('prepare', check_mode=True, **params)['changed']
    assert mode(params['key_path']) == 0o644
    assert run('prepare', **params)['changed']
    assert mode(params['key_path']) == 0o600
    assert not run('prepare', **params)['changed']


def test_failed_write_keeps_the_old_file(monkeypatch, tmp_path, ca, params):
    issue(ca, params)
    before = open(params['cert_path']).read()
    prep = run('prepare', **dict(params, force=True))

    def broken_replace(src, dst):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(vault_cert.os, 'replace', broken_replace)
    with pytest.raises(Failed, match=f"Cannot write {params['cert_path']}: No space left on device"):
        run('install', **dict(params, _certificate=sign(ca, prep['csr'])))
    assert open(params['cert_path']).read() == before
    assert sorted(os.listdir(tmp_path)) == ['ca.crt', 'server.crt', 'server.key']


@pytest.mark.parametrize('extra, message', [
    ({'owner': 'no-such-user-hk'}, "owner: the user 'no-such-user-hk' does not exist"),
    ({'group': 'no-such-group-hk'}, "group: the group 'no-such-group-hk' does not exist"),
    ({'key_mode': '0999'}, "key_mode: '0999' is not an octal file mode"),
])
def test_bad_file_options_are_named(params, extra, message):
    with pytest.raises(Failed, match=message):
        run('prepare', **dict(params, **extra))


def test_unreadable_key_is_not_overwritten(params):
    with open(params['key_path'], 'w') as handle:
        handle.write('not a key')
    with pytest.raises(Failed, match='is not an unencrypted PEM private key.*move it away'):
        run('prepare', **params)
    assert open(params['key_path']).read() == 'not a key'


# --------------------------------------------------------------------------
# ca=true: an intermediate CA whose key stays on the host
# --------------------------------------------------------------------------

def sign_intermediate(ca, csr_pem, common_name, path_length=0, hours=8760):
    """What Vault's <mount>/root/sign-intermediate does with use_csr_values=false: subject from the request."""
    ca_key, ca_cert = ca
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_cert.subject).public_key(csr.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(seconds=30)).not_valid_after(now + datetime.timedelta(hours=hours))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .sign(ca_key, hashes.SHA256()))
    return _pem(cert)


@pytest.fixture(name='ca_params')
def fixture_ca_params(tmp_path, ca):
    return {
        'mount': 'lab-pki-kubernetes', 'role': None, 'ca': True, 'common_name': 'lab kubelet signing CA cm-1',
        'subject_alt_name': [], 'renew_before': '33%',
        'key_path': str(tmp_path / 'kubelet-signing-ca.key'), 'cert_path': str(tmp_path / 'kubelet-signing-ca.crt'),
        'ca_path': str(tmp_path / 'ca.crt'), '_ca_pem': _pem(ca[1]),
    }


def test_ca_mode_installs_exactly_one_ca_certificate(tmp_path, ca, ca_params):
    prep = run('prepare', **ca_params)
    assert prep['reissue'] and prep['key_generated'] and prep['reasons'] == ['certificate file is missing']
    assert x509.load_pem_x509_csr(prep['csr'].encode()).subject.rfc4514_string() == 'CN=lab kubelet signing CA cm-1'
    signed = sign_intermediate(ca, prep['csr'], ca_params['common_name'])
    installed = run('install', **dict(ca_params, _certificate=signed + _pem(ca[1])))  # even with a chain: the file gets one
    assert installed['after']['kind'] == 'CA, path length 0'
    text = open(ca_params['cert_path']).read()
    assert text.count('BEGIN CERTIFICATE') == 1 and text == signed
    assert open(ca_params['ca_path']).read() == ca_params['_ca_pem']
    assert mode(ca_params['key_path']) == 0o600
    again = run('prepare', **ca_params)
    assert not again['reissue'] and not again['changed'] and again['before']['kind'] == 'CA, path length 0'


def test_ca_mode_replaces_a_leaf_and_a_wrong_path_length(ca, ca_params):
    prep = run('prepare', **ca_params)
    run('install', **dict(ca_params, _certificate=sign(ca, prep['csr'])))  # a leaf where a CA belongs
    assert run('prepare', **ca_params)['reasons'] == ['certificate is not a CA certificate']
    prep = run('prepare', **ca_params)
    run('install', **dict(ca_params, _certificate=sign_intermediate(ca, prep['csr'], ca_params['common_name'], path_length=None)))
    assert run('prepare', **ca_params)['reasons'] == ['CA path length is unlimited, want 0']
    assert run('prepare', **dict(ca_params, ca_max_path_length=-1))['reasons'] == []
    # The same file asked for as a leaf certificate.
    leaf = dict(ca_params, ca=False, role='kube-controller-manager')
    assert run('prepare', check_mode=True, **leaf)['reasons'] == ['certificate is a CA certificate but a leaf was asked for']


@pytest.mark.parametrize('extra, message', [
    ({'role': 'kube-controller-manager'}, "role: 'kube-controller-manager' is not used with ca=true"),
    ({'subject_alt_name': ['DNS:cm-1']}, 'subject_alt_name: not supported with ca=true'),
])
def test_ca_mode_rejects_leaf_options_before_making_a_key(tmp_path, ca_params, extra, message):
    with pytest.raises(Failed, match=message):
        run('prepare', **dict(ca_params, **extra))
    assert os.listdir(tmp_path) == []
