# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Tests for the cert_due and certs_unexpired filters, on certificates made here with `cryptography`."""

from __future__ import annotations

import datetime

import pytest
from ansible.errors import AnsibleFilterError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.hardway.kubernetes.plugins.filter import cert_lifetime as plugin

FILTERS = plugin.FilterModule().filters()
cert_due = FILTERS['cert_due']
certs_unexpired = FILTERS['certs_unexpired']
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def pem(name: str, days: float, start: datetime.datetime = START) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize(('now', 'renew_before', 'due'), [
    # 300 days from 2026-01-01: 33% before the end is day 201 (2026-07-21), 720h before it is 2026-09-28.
    ('2026-07-20T00:00:00Z', '33%', False),
    ('2026-07-21T00:00:00Z', '33%', True),
    ('2026-09-27T23:59:59Z', '720h', False),
    ('2026-09-28T00:00:00Z', '720h', True),
    ('2026-11-01T00:00:00Z', '1%', True),  # expired is due as well
])
def test_due_at_the_renewal_point(now, renew_before, due):
    assert cert_due(pem('ca', 300), renew_before, now) is due


def test_due_reads_the_first_certificate_of_a_bundle():
    bundle = pem('short', 10) + pem('long', 1000)
    assert cert_due(bundle, '33%', '2026-01-09T00:00:00Z') is True


@pytest.mark.parametrize(('value', 'message'), [
    ('no certificate here', 'not a PEM certificate'),
    (None, 'must be PEM text'),
])
def test_due_rejects_what_is_not_a_certificate(value, message):
    with pytest.raises(AnsibleFilterError, match=message):
        cert_due(value, '33%')


def test_due_names_a_bad_renew_before():
    with pytest.raises(AnsibleFilterError, match="renew_before: 'soon'"):
        cert_due(pem('ca', 30), 'soon')


def test_unexpired_drops_expired_and_repeated_certificates_keeping_order():
    old, current, nxt = pem('old', 10), pem('current', 400), pem('next', 800)
    kept = certs_unexpired([current + old, '', nxt, current], now='2026-03-01T00:00:00Z')
    assert kept == [current.strip(), nxt.strip()]


def test_unexpired_keeps_a_certificate_until_its_last_second():
    cert = pem('edge', 1)
    assert certs_unexpired(cert, now='2026-01-01T23:59:59Z') == [cert.strip()]
    assert certs_unexpired(cert, now='2026-01-02T00:00:00Z') == []


def test_unexpired_names_the_bad_item():
    with pytest.raises(AnsibleFilterError, match='item 1'):
        certs_unexpired([pem('a', 30), 'garbage'])
    with pytest.raises(AnsibleFilterError, match='list of PEM texts'):
        certs_unexpired({'a': 1})
