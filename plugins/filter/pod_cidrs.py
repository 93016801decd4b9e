# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""The hardway.kubernetes.pod_cidrs filter; its documentation is in pod_cidrs.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.hardway.kubernetes.plugins.module_utils._pod_cidr import PodCidrError, allocate_pod_cidrs


def pod_cidrs(nodes, cluster_cidr=None, node_prefix=None, service_cidr=None, existing=None):
    """Assign a pod CIDR (or one per family) to every node in nodes."""
    for name, value, example in (('cluster_cidr', cluster_cidr, "'100.64.0.0/16'"), ('node_prefix', node_prefix, '24')):
        if value is None:
            raise AnsibleFilterError(f"pod_cidrs: {name} is required, e.g. nodes | hardway.kubernetes.pod_cidrs({name}={example}, ...)")
    try:
        return allocate_pod_cidrs(nodes, cluster_cidr, node_prefix, service_cidr=service_cidr, existing=existing)
    except PodCidrError as exc:
        raise AnsibleFilterError(f'pod_cidrs: {exc}') from exc


class FilterModule:
    """Pod CIDR allocation filter."""

    def filters(self):
        return {'pod_cidrs': pod_cidrs}
