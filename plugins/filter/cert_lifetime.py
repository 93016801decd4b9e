# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""The hardway.kubernetes.cert_due and certs_unexpired filters; documentation in cert_due.yml and
certs_unexpired.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.hardway.kubernetes.plugins.module_utils._certs import (
    CertError, _utc, cert_pem, load_certificates, renew_threshold, utc_moment)


def cert_due(pem, renew_before, now=None):
    """True when the first certificate of a PEM text has reached its renewal point (renew_before before its end)."""
    if not isinstance(pem, (str, bytes)):
        raise AnsibleFilterError(f'cert_due: the input must be PEM text, got {type(pem).__name__}')
    try:
        cert = load_certificates(pem, 'cert_due input')[0]
        threshold = renew_threshold(renew_before, _utc(cert, 'not_valid_before'), _utc(cert, 'not_valid_after'))
    except CertError as exc:
        raise AnsibleFilterError(f'cert_due: {exc}') from exc
    return utc_moment(now) >= threshold


def certs_unexpired(pems, now=None):
    """The certificates of a list of PEM texts that are still valid, one PEM block each, first seen first, no repeats."""
    if isinstance(pems, (str, bytes)):
        pems = [pems]
    if not isinstance(pems, (list, tuple)):
        raise AnsibleFilterError(f'certs_unexpired: the input must be a list of PEM texts, got {type(pems).__name__}')
    moment = utc_moment(now)
    kept = []
    for index, pem in enumerate(pems):
        if not pem or not str(pem).strip():
            continue
        try:
            certs = load_certificates(pem, f'certs_unexpired input item {index}')
        except CertError as exc:
            raise AnsibleFilterError(f'certs_unexpired: {exc}') from exc
        for cert in certs:
            block = cert_pem(cert).decode('ascii').strip()
            if _utc(cert, 'not_valid_after') > moment and block not in kept:
                kept.append(block)
    return kept


class FilterModule:
    """Certificate lifetime filters."""

    def filters(self):
        return {'cert_due': cert_due, 'certs_unexpired': certs_unexpired}
