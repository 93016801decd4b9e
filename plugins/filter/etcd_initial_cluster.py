# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""The hardway.kubernetes.etcd_initial_cluster filter; its documentation is in etcd_initial_cluster.yml."""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError

_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')
_HOST = re.compile(r'^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$')


def _members(value):
    """(name, address) pairs from a mapping or a list of {name, address} items."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, (list, tuple)):
        pairs = []
        for item in value:
            if not isinstance(item, dict) or 'name' not in item or 'address' not in item:
                raise AnsibleFilterError(f"etcd_initial_cluster: list items need 'name' and 'address', got {item!r}")
            pairs.append((item['name'], item['address']))
        return pairs
    raise AnsibleFilterError(f'etcd_initial_cluster: the input must map member names to addresses, got {value!r}')


def _url_host(name, address):
    text = str(address or '').strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        if not _HOST.match(text):
            raise AnsibleFilterError(f'etcd_initial_cluster: member {name!r} has address {address!r}, which is neither an IP address '
                                     'nor a DNS name; set its peer address (for example the host IP) correctly') from None
        return text.lower()
    return f'[{ip}]' if ip.version == 6 else str(ip)


def etcd_initial_cluster(members, port=2380, scheme='https'):
    """etcd's --initial-cluster value: 'name=https://address:2380,...', sorted by name."""
    if scheme not in ('https', 'http'):
        raise AnsibleFilterError(f"etcd_initial_cluster: scheme {scheme!r} must be 'https' or 'http'")
    try:
        port = int(port)
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        raise AnsibleFilterError('etcd_initial_cluster: port must be a TCP port number such as 2380')
    urls = {}
    for name, address in _members(members):
        name = str(name)
        if not _NAME.match(name):
            raise AnsibleFilterError(f"etcd_initial_cluster: member name {name!r} may only hold letters, digits, '.', '_' and '-'")
        if name in urls:
            raise AnsibleFilterError(f'etcd_initial_cluster: member name {name!r} appears twice; member names must be unique')
        urls[name] = f'{scheme}://{_url_host(name, address)}:{port}'
    if not urls:
        raise AnsibleFilterError('etcd_initial_cluster: no members; is the inventory group empty?')
    seen = {}
    for name, url in urls.items():
        if url in seen:
            raise AnsibleFilterError(f'etcd_initial_cluster: members {seen[url]!r} and {name!r} share the peer URL {url}')
        seen[url] = name
    return ','.join(f'{name}={urls[name]}' for name in sorted(urls))


class FilterModule:
    """etcd member string filter."""

    def filters(self):
        return {'etcd_initial_cluster': etcd_initial_cluster}
