# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Tests for plugins/module_utils/_certs.py: when a certificate must be re-issued, and the helpers behind it.

Certificates are made here with `cryptography` (a small CA that signs leaf
certificates with chosen names and validity), so every decision is checked
against real X.509 data.
"""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hardway.kubernetes.plugins.module_utils import _certs as certs
from ansible_collections.hardway.kubernetes.plugins.module_utils._certs import CertError

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def make_ca(name='test etcd CA'):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_leaf(ca, key=None, cn='etcd-1', orgs=(), dns=('etcd-1',), ips=('198.18.0.11',), start=None, hours=72):
    ca_key, ca_cert = ca
    key = key or ec.generate_private_key(ec.SECP256R1())
    start = start or NOW - datetime.timedelta(hours=1)
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs] + [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    builder = (x509.CertificateBuilder().subject_name(x509.Name(attrs)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + datetime.timedelta(hours=hours)))
    names = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


REQUEST = {'common_name': 'etcd-1', 'organization': [], 'subject_alt_name': ['DNS:etcd-1', 'IP:198.18.0.11'],
           'renew_before': '33%'}


@pytest.fixture(scope='module')
def ca():
    return make_ca()


def test_a_matching_fresh_certificate_is_kept(ca):
    key, cert = make_leaf(ca)
    assert certs.reissue_reasons(cert, key, REQUEST, ca[1], now=NOW) == []


def test_missing_certificate_and_force(ca):
    key, cert = make_leaf(ca)
    assert certs.reissue_reasons(None, key, REQUEST, ca[1], now=NOW) == ['certificate file is missing']
    assert certs.reissue_reasons(cert, key, REQUEST, ca[1], now=NOW, force=True) == ['force is set']


def test_missing_or_foreign_key(ca):
    key, cert = make_leaf(ca)
    assert certs.reissue_reasons(cert, None, REQUEST, ca[1], now=NOW) == ['private key is missing']
    other = ec.generate_private_key(ec.SECP256R1())
    assert certs.reissue_reasons(cert, other, REQUEST, ca[1], now=NOW) == ['private key does not match the certificate']


def test_renewal_by_share_of_lifetime(ca):
    # 72h certificate: with 33% it is renewed once less than 23.76h are left.
    start = NOW - datetime.timedelta(hours=48)
    key, cert = make_leaf(ca, start=start, hours=72)
    assert certs.reissue_reasons(cert, key, REQUEST, ca[1], now=NOW) == []
    later = start + datetime.timedelta(hours=49)
    reasons = certs.reissue_reasons(cert, key, REQUEST, ca[1], now=later)
    assert len(reasons) == 1 and 'within renew_before (33%)' in reasons[0]


def test_renewal_by_duration_and_expired(ca):
    key, cert = make_leaf(ca, start=NOW - datetime.timedelta(hours=60), hours=72)  # 12h left
    assert certs.reissue_reasons(cert, key, dict(REQUEST, renew_before='11h'), ca[1], now=NOW) == []
    assert 'within renew_before (13h)' in certs.reissue_reasons(cert, key, dict(REQUEST, renew_before='13h'), ca[1], now=NOW)[0]
    expired = NOW + datetime.timedelta(hours=13)
    assert certs.reissue_reasons(cert, key, REQUEST, ca[1], now=expired)[0].startswith('certificate expired at ')


def test_subject_and_san_changes(ca):
    key, cert = make_leaf(ca, orgs=('system:masters',))
    reasons = certs.reissue_reasons(cert, key, dict(REQUEST, common_name='etcd-2',
                                                    subject_alt_name=['DNS:etcd-1', 'IP:198.18.0.12']), ca[1], now=NOW)
    assert reasons == [
        "common name is 'etcd-1', want 'etcd-2'",
        "organization is ['system:masters'], want []",
        'IP SANs differ: missing 198.18.0.12; not requested 198.18.0.11',
    ]
    reasons = certs.reissue_reasons(cert, key, dict(REQUEST, organization=['system:masters'],
                                                    subject_alt_name=['IP:198.18.0.11']), ca[1], now=NOW)
    assert reasons == ['DNS SANs differ: not requested etcd-1']


def test_san_order_case_and_notation_do_not_matter(ca):
    key, cert = make_leaf(ca, dns=('etcd-1', 'localhost'), ips=('127.0.0.1', '198.18.0.11'))
    request = dict(REQUEST, subject_alt_name=['IP:198.18.0.11', 'localhost', '127.0.0.1', 'DNS:ETCD-1'])
    assert certs.reissue_reasons(cert, key, request, ca[1], now=NOW) == []


def test_certificate_from_another_ca_is_reissued(ca):
    key, cert = make_leaf(ca)
    other_ca = make_ca('test etcd CA')  # same name, other key: only the signature tells them apart
    reasons = certs.reissue_reasons(cert, key, REQUEST, other_ca[1], now=NOW)
    assert len(reasons) == 1 and 'not by the current CA' in reasons[0]
    assert certs.reissue_reasons(cert, key, REQUEST, None, now=NOW) == []


def test_renew_threshold_rejects_bad_values():
    start, end = NOW, NOW + datetime.timedelta(hours=72)
    assert certs.renew_threshold('50%', start, end) == NOW + datetime.timedelta(hours=36)
    assert certs.renew_threshold('1d', start, end) == NOW + datetime.timedelta(hours=48)
    for bad in ('0%', '100%', 'x%', 'soon', ''):
        with pytest.raises(CertError, match='renew_before'):
            certs.renew_threshold(bad, start, end)


@pytest.mark.parametrize('text, seconds', [
    ('72h', 259200), ('1h30m', 5400), ('3d', 259200), ('45s', 45), ('3600', 3600), (600, 600), ('0', 0), ('1.5h', 5400),
])
def test_parse_duration(text, seconds):
    assert certs.parse_duration(text) == seconds


@pytest.mark.parametrize('bad', ['', 'h', '10x', '1h 30m', '-5m', True])
def test_parse_duration_rejects(bad):
    with pytest.raises(CertError, match='not a duration'):
        certs.parse_duration(bad)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=500), st.sampled_from(['s', 'm', 'h', 'd'])), min_size=1, max_size=4))
def test_parse_duration_adds_up_its_parts(parts):
    text = ''.join(f'{n}{unit}' for n, unit in parts)
    expected = sum(n * {'s': 1, 'm': 60, 'h': 3600, 'd': 86400}[unit] for n, unit in parts)
    assert certs.parse_duration(text) == expected


def test_key_csr_round_trip_keeps_key_on_this_side():
    key = certs.generate_private_key('ecdsa')
    assert certs.key_type_of(key) == 'ecdsa'
    pem = certs.private_key_pem(key)
    assert pem.startswith(b'-----BEGIN PRIVATE KEY-----')
    loaded = certs.load_private_key(pem)
    csr_pem = certs.build_csr(loaded, 'system:kube-scheduler', ['system:masters'], ['DNS:etcd-1', 'IP:198.18.0.11'])
    assert 'PRIVATE KEY' not in csr_pem
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == 'CN=system:kube-scheduler,O=system:masters'
    assert certs.public_key_bytes(csr) == certs.public_key_bytes(key)
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ['etcd-1']
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ['198.18.0.11']


def test_rsa_keys_and_key_type_matching():
    key = certs.generate_private_key('rsa', 2048)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert certs.key_matches_request(key, 'rsa', 2048)
    assert not certs.key_matches_request(key, 'rsa', 3072)
    assert not certs.key_matches_request(key, 'ecdsa', 2048)
    with pytest.raises(CertError, match='too small'):
        certs.generate_private_key('rsa', 1024)
    with pytest.raises(CertError, match='key_type'):
        certs.generate_private_key('dsa')


def test_unusable_key_and_certificate_files_are_named():
    with pytest.raises(CertError, match='/etc/etcd/pki/server.key is not an unencrypted PEM private key'):
        certs.load_private_key(b'garbage', '/etc/etcd/pki/server.key')
    with pytest.raises(CertError, match='/etc/etcd/pki/server.crt'):
        certs.load_certificates(b'-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', '/etc/etcd/pki/server.crt')
    with pytest.raises(CertError, match='x.crt is not a PEM certificate'):
        certs.load_certificates(b'', 'x.crt')


def test_cert_info_uses_vault_serial_notation(ca):
    dummy, cert = make_leaf(ca, orgs=('b', 'a'))
    info = certs.cert_info(cert)
    assert info['serial'] == certs.format_serial(cert.serial_number)
    assert all(len(part) == 2 for part in info['serial'].split(':'))
    assert info['organization'] == ['a', 'b']
    assert info['subject_alt_name'] == ['DNS:etcd-1', 'IP:198.18.0.11']
    assert info['not_after'] == (NOW + datetime.timedelta(hours=71)).isoformat()
    assert certs.format_serial(0x1abc) == '1a:bc' and certs.format_serial(0xabc) == '0a:bc'


@pytest.mark.parametrize('entry, expected', [
    ('DNS:Etcd-1.', ('DNS', 'etcd-1')), ('IP:198.18.0.11', ('IP', '198.18.0.11')), ('IP Address:fd00::0:1', ('IP', 'fd00::1')),
    ('198.18.0.11', ('IP', '198.18.0.11')), ('kubernetes.default.svc', ('DNS', 'kubernetes.default.svc')),
])
def test_normalize_san(entry, expected):
    assert certs.normalize_san(entry) == expected


@pytest.mark.parametrize('bad', ['IP:198.18.0.300', 'DNS:under_score', 'DNS:-lead', 'DNS:a..b', 'DNS:'])
def test_normalize_san_rejects(bad):
    with pytest.raises(CertError, match='subject_alt_name'):
        certs.normalize_san(bad)


# --------------------------------------------------------------------------
# CA certificates (vault_cert ca=true: the kubelet-signing CA)
# --------------------------------------------------------------------------

CA_REQUEST = {'common_name': 'k8s kubelet signing CA cm-1', 'organization': [], 'subject_alt_name': [], 'renew_before': '33%',
              'ca': True, 'max_path_length': 0}


def make_sub_ca(ca, key=None, cn='k8s kubelet signing CA cm-1', path_length=0, ca_flag=True, cert_sign=True, hours=8760):
    """What <mount>/root/sign-intermediate returns: a CA certificate below ca."""
    ca_key, ca_cert = ca
    key = key or ec.generate_private_key(ec.SECP256R1())
    start = NOW - datetime.timedelta(hours=1)
    usage = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                          key_agreement=False, key_cert_sign=cert_sign, crl_sign=True, encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(hours=hours))
            .add_extension(x509.BasicConstraints(ca=ca_flag, path_length=path_length if ca_flag else None), critical=True)
            .add_extension(usage, critical=True)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def test_a_matching_ca_certificate_is_kept(ca):
    key, cert = make_sub_ca(ca)
    assert certs.reissue_reasons(cert, key, CA_REQUEST, ca[1], now=NOW) == []
    unlimited_key, unlimited = make_sub_ca(ca, path_length=None)
    assert certs.reissue_reasons(unlimited, unlimited_key, dict(CA_REQUEST, max_path_length=-1), ca[1], now=NOW) == []
    info = certs.cert_info(cert)
    assert (info['ca'], info['path_length'], info['kind']) == (True, 0, 'CA, path length 0')
    assert certs.cert_info(unlimited)['kind'] == 'CA, path length unlimited'


def test_the_kind_of_certificate_must_match_the_request(ca):
    leaf_key, leaf = make_leaf(ca, cn='k8s kubelet signing CA cm-1', dns=(), ips=())
    assert certs.reissue_reasons(leaf, leaf_key, CA_REQUEST, ca[1], now=NOW) == ['certificate is not a CA certificate']
    ca_key, ca_cert = make_sub_ca(ca, cn='etcd-1')
    request = dict(REQUEST, subject_alt_name=[])
    assert certs.reissue_reasons(ca_cert, ca_key, request, ca[1], now=NOW) == ['certificate is a CA certificate but a leaf was asked for']
    # BasicConstraints ca=false is a leaf, like no BasicConstraints at all.
    flagless_key, flagless = make_sub_ca(ca, ca_flag=False)
    assert certs.reissue_reasons(flagless, flagless_key, CA_REQUEST, ca[1], now=NOW) == ['certificate is not a CA certificate']
    assert certs.cert_info(leaf)['kind'] == 'leaf'


@pytest.mark.parametrize('have, want, reason', [
    (None, 0, 'CA path length is unlimited, want 0'),
    (1, 0, 'CA path length is 1, want 0'),
    (0, -1, 'CA path length is 0, want unlimited'),
    (0, 2, 'CA path length is 0, want 2'),
])
def test_ca_path_length_must_match(ca, have, want, reason):
    key, cert = make_sub_ca(ca, path_length=have)
    assert certs.reissue_reasons(cert, key, dict(CA_REQUEST, max_path_length=want), ca[1], now=NOW) == [reason]


def test_a_ca_that_may_not_sign_is_reissued(ca):
    key, cert = make_sub_ca(ca, cert_sign=False)
    assert certs.kind_mismatches(cert, ca=True) == ['CA certificate may not sign certificates (its key usage lacks keyCertSign)']


def test_ca_renewal_uses_its_own_lifetime(ca):
    key, cert = make_sub_ca(ca, hours=8760)
    assert certs.reissue_reasons(cert, key, CA_REQUEST, ca[1], now=NOW + datetime.timedelta(days=240)) == []
    late = certs.reissue_reasons(cert, key, CA_REQUEST, ca[1], now=NOW + datetime.timedelta(days=250))
    assert len(late) == 1 and 'within renew_before (33%)' in late[0]


@pytest.mark.parametrize('params, message', [
    ({'ca': False, 'role': None}, 'role: a leaf certificate needs the Vault role'),
    ({'ca': True, 'role': 'kube-scheduler'}, "role: 'kube-scheduler' is not used with ca=true"),
    ({'ca': True, 'organization': ['system:masters']}, 'organization: not supported with ca=true'),
    ({'ca': True, 'subject_alt_name': ['DNS:cm-1']}, 'subject_alt_name: not supported with ca=true'),
    ({'ca': True, 'ca_max_path_length': -2}, 'ca_max_path_length: -2 is not a path length'),
])
def test_impossible_requests_are_named(params, message):
    with pytest.raises(CertError, match=message):
        certs.check_request(params)
    certs.check_request({'ca': True, 'ca_max_path_length': -1})
    certs.check_request({'ca': False, 'role': 'etcd-main-server'})


def test_sign_request_of_a_ca_pins_subject_and_path_length():
    params = {'mount': 'k8s-pki-kubernetes/', 'role': None, 'ca': True, 'ca_max_path_length': 0,
              'common_name': 'k8s kubelet signing CA cm-1', 'ttl': '8760h'}
    path, data = certs.sign_request(params, 'CSR')
    assert path == 'k8s-pki-kubernetes/root/sign-intermediate'
    # max_path_length as a string: the only form a Vault policy's allowed_parameters can pin (measured on OpenBao 2.7).
    assert data == {'csr': 'CSR', 'common_name': 'k8s kubelet signing CA cm-1', 'exclude_cn_from_sans': True, 'format': 'pem',
                    'ttl': '8760h', 'use_csr_values': False, 'max_path_length': '0'}
    leaf = {'mount': 'k8s-pki-etcd', 'role': 'etcd-main-server', 'ca': False, 'ca_max_path_length': 0, 'common_name': 'etcd-1', 'ttl': None}
    assert certs.sign_request(leaf, 'CSR') == ('k8s-pki-etcd/sign/etcd-main-server', {
        'csr': 'CSR', 'common_name': 'etcd-1', 'exclude_cn_from_sans': True, 'format': 'pem'})


def test_signed_mismatches_cover_subject_and_kind(ca):
    params = {'common_name': 'k8s kubelet signing CA cm-1', 'organization': [], 'subject_alt_name': [], 'ca': True,
              'ca_max_path_length': 0}
    assert certs.signed_mismatches(make_sub_ca(ca)[1], params) == []
    assert certs.signed_mismatches(make_sub_ca(ca, cn='other', path_length=None)[1], params) == [
        "common name is 'other', want 'k8s kubelet signing CA cm-1'", 'CA path length is unlimited, want 0']
    leaf = make_leaf(ca, cn='k8s kubelet signing CA cm-1', dns=(), ips=())[1]
    assert certs.signed_mismatches(leaf, params) == ['certificate is not a CA certificate']


def test_outlives_compares_with_the_issuing_ca(ca):
    assert not certs.outlives(make_sub_ca(ca, hours=24)[1], ca[1])
    assert certs.outlives(make_sub_ca(ca, hours=24 * 400)[1], ca[1])  # the test CA is valid for 365 days
