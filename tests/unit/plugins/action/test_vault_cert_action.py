# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Tests for the controller side of hardway.kubernetes.vault_cert (plugins/action/vault_cert.py): what is sent to
Vault and what is accepted back, with a fake Vault that signs with a CA made here."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.hardway.kubernetes.plugins.action.vault_cert import ActionModule
from ansible_collections.hardway.kubernetes.plugins.module_utils._vault import VaultError

NOW = datetime.datetime.now(datetime.timezone.utc)
CN = 'lab kubelet signing CA cm-1'


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(name='ca', scope='module')
def fixture_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name('lab kubernetes CA')).issuer_name(_name('lab kubernetes CA'))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=1825))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    return key, cert


@pytest.fixture(name='csr', scope='module')
def fixture_csr():
    key = ec.generate_private_key(ec.SECP256R1())
    return x509.CertificateSigningRequestBuilder().subject_name(_name(CN)).sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM).decode()


class FakeVault:
    """Answers a sign request like Vault, with a certificate of the kind and name the test chooses."""

    url = 'http://127.0.0.1:8200'

    def __init__(self, ca, ca_flag=True, path_length=0, cn=CN, days=365):
        self.ca, self.ca_flag, self.path_length, self.cn, self.days = ca, ca_flag, path_length, cn, days
        self.requests = []

    def write(self, path, data, action=None):
        self.requests.append((path, data, action))
        ca_key, ca_cert = self.ca
        csr = x509.load_pem_x509_csr(data['csr'].encode())
        builder = (x509.CertificateBuilder().subject_name(_name(self.cn)).issuer_name(ca_cert.subject).public_key(csr.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(NOW)
                   .not_valid_after(NOW + datetime.timedelta(days=self.days)))
        if self.ca_flag:
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=self.path_length), critical=True)
        return {'certificate': _pem(builder.sign(ca_key, hashes.SHA256())), 'issuing_ca': _pem(ca_cert)}


ARGS = {'mount': 'lab-pki-kubernetes', 'role': None, 'ca': True, 'ca_max_path_length': 0, 'common_name': CN,
        'organization': [], 'subject_alt_name': [], 'ttl': '8760h', 'cert_path': '/etc/kubernetes/pki/kubelet-signing-ca.crt'}


def test_ca_request_goes_to_sign_intermediate_and_is_checked(ca, csr):
    vault = FakeVault(ca)
    certificate, issuing_ca, info, warnings = ActionModule._sign(vault, ARGS, csr, _pem(ca[1]), {'inventory_hostname': 'cm-1'})
    [(path, data, action)] = vault.requests
    assert path == 'lab-pki-kubernetes/root/sign-intermediate'
    assert data['max_path_length'] == '0' and data['use_csr_values'] is False and data['ttl'] == '8760h'
    assert 'PRIVATE KEY' not in str(data)
    assert action == "signing the CSR of cm-1 for a CA certificate with mount 'lab-pki-kubernetes'"
    assert info['kind'] == 'CA, path length 0' and info['common_name'] == CN
    assert issuing_ca == _pem(ca[1]) and certificate.count('BEGIN CERTIFICATE') == 1 and warnings == []


@pytest.mark.parametrize('answer, reason', [
    ({'ca_flag': False}, 'certificate is not a CA certificate'),
    ({'path_length': None}, 'CA path length is unlimited, want 0'),
    ({'cn': 'somebody else'}, f"common name is 'somebody else', want '{CN}'"),
])
def test_a_ca_certificate_that_differs_is_not_installed(ca, csr, answer, reason):
    with pytest.raises(VaultError) as failure:
        ActionModule._sign(FakeVault(ca, **answer), ARGS, csr, _pem(ca[1]), {})
    message = str(failure.value)
    assert reason in message and message.endswith('Nothing was installed.')
    assert "answered 'lab-pki-kubernetes/root/sign-intermediate'" in message


def test_a_ca_that_outlives_its_issuer_is_installed_with_a_warning(ca, csr):
    dummy, dummy, dummy, warnings = ActionModule._sign(FakeVault(ca, days=3650), ARGS, csr, _pem(ca[1]), {})
    assert len(warnings) == 1 and 'longer than the CA of mount' in warnings[0]


def test_leaf_request_names_the_role(ca, csr):
    leaf = dict(ARGS, ca=False, role='kube-controller-manager', common_name='system:kube-controller-manager')
    vault = FakeVault(ca, ca_flag=False, cn='system:kube-controller-manager')
    ActionModule._sign(vault, leaf, csr, _pem(ca[1]), {'inventory_hostname': 'cm-1'})
    assert vault.requests[0][0] == 'lab-pki-kubernetes/sign/kube-controller-manager'
    assert 'max_path_length' not in vault.requests[0][1]
    with pytest.raises(VaultError, match="Vault role 'kube-controller-manager' .* is a CA certificate but a leaf was asked for"):
        ActionModule._sign(FakeVault(ca, cn='system:kube-controller-manager'), leaf, csr, _pem(ca[1]), {})
