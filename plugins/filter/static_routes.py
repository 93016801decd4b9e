# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""The hardway.kubernetes.static_routes filter; its documentation is in static_routes.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.hardway.kubernetes.plugins.module_utils._pod_cidr import PodCidrError
from ansible_collections.hardway.kubernetes.plugins.module_utils._routes import static_routes as build_static_routes


def static_routes(pod_cidr_map, node_ips=None, self_name=None, connected=None):
    """Routes from self_name to every other node's pod CIDRs via that node's IP."""
    for name, value, example in (('node_ips', node_ips, 'node_ips'), ('self_name', self_name, 'inventory_hostname')):
        if value is None:
            raise AnsibleFilterError(f'static_routes: {name} is required, e.g. pod_cidr_map | hardway.kubernetes.static_routes({name}={example}, ...)')
    try:
        return build_static_routes(pod_cidr_map, node_ips, self_name, connected=connected)
    except PodCidrError as exc:
        raise AnsibleFilterError(f'static_routes: {exc}') from exc


class FilterModule:
    """Static pod route filter."""

    def filters(self):
        return {'static_routes': static_routes}
