# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""The hardway.kubernetes.cert_sans filter; its documentation is in cert_sans.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.hardway.kubernetes.plugins.module_utils._certs import CertError, build_sans


def cert_sans(sources, hostnames=None, host_ips=None, lb=None, service_cidr=None, cluster_domain='cluster.local', extra=None):
    """Subject alternative names ('DNS:...', 'IP:...') for the given SAN sources."""
    if not isinstance(sources, (list, tuple, str)):
        raise AnsibleFilterError(f"cert_sans: the input must be a list of SAN sources such as ['hostnames', 'host_ips'], got {sources!r}")
    try:
        return build_sans(sources, hostnames=hostnames, host_ips=host_ips, lb=lb, service_cidr=service_cidr,
                          cluster_domain=cluster_domain, extra=extra)
    except CertError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    """Certificate SAN filter."""

    def filters(self):
        return {'cert_sans': cert_sans}
