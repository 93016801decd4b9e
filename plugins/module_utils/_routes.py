# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Static pod routes: one host's routes to every other node's pod CIDRs.

This module is private to the hardway.kubernetes collection; its API may
change without notice.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Mapping

from ansible_collections.hardway.kubernetes.plugins.module_utils._pod_cidr import (
    V4_ADDRESS_RE,
    V4_CIDR_RE,
    PodCidrError,
    family_name,
    parse_address,
    parse_block,
    show,
)

__all__ = ['static_routes']

_LIST_TYPES = (list, tuple)
_MAXLEN = {4: 32, 6: 128}


def _node_blocks(name, value):
    """[(version, first, last, text)] of a node's pod CIDRs."""
    what = f'pod_cidr_map[{name!r}]'
    if isinstance(value, str):
        parsed = [parse_block(value, what)]
    elif isinstance(value, _LIST_TYPES) and value:
        parsed = [parse_block(item, f'{what}[{i}]') for i, item in enumerate(value)]
        if len({block[0] for block in parsed}) != len(parsed):
            raise PodCidrError(f"{what} = {show(value)} has more than one CIDR of the same family; a node has at most one pod CIDR per family")
    else:
        raise PodCidrError(
            f"{what} must be the node's pod CIDR, a string or a list of one CIDR per family (the result of pod_cidrs), got {show(value)}"
        )
    return [(version, start, start + (1 << (_MAXLEN[version] - prefix)) - 1, text) for version, start, prefix, text in parsed]


def _node_addresses(name, value):
    """{version: (address text, address as int)} of a node's IPs, at most one per family."""
    what = f'node_ips[{name!r}]'
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, _LIST_TYPES) or not items:
        raise PodCidrError(f"{what} must be the node's IP address, a string or a list of one address per family, got {show(value)}")
    by_family = {}
    for i, item in enumerate(items):
        version, number, text = parse_address(item, what if isinstance(value, str) else f'{what}[{i}]')
        if version in by_family:
            raise PodCidrError(f"{what} = {show(value)} has more than one {family_name(version)} address; give exactly one next hop per family")
        by_family[version] = (text, number)
    return by_family


class _Connected:
    """The networks directly connected to the host: (version, first, last, prefix, own address, device, text)."""

    def __init__(self, connected):
        if isinstance(connected, Mapping):
            self.named = True
            items = []
            for dev, addresses in connected.items():
                if not isinstance(dev, str) or not dev:
                    raise PodCidrError(f"connected has the key {show(dev)}; keys are interface names such as 'eth0'")
                if isinstance(addresses, str):
                    items.append((dev, addresses, f'connected[{dev!r}]'))
                elif isinstance(addresses, _LIST_TYPES):
                    items.extend((dev, item, f'connected[{dev!r}][{i}]') for i, item in enumerate(addresses))
                else:
                    raise PodCidrError(
                        f"connected[{dev!r}] must be the interface's addresses with prefix length, e.g. ['198.18.0.11/24'], got {show(addresses)}"
                    )
        elif isinstance(connected, _LIST_TYPES):
            self.named = False
            items = [(None, item, f'connected[{i}]') for i, item in enumerate(connected)]
        else:
            raise PodCidrError(
                f"connected must map interface names to their addresses with prefix length, e.g. {{'eth0': ['198.18.0.11/24']}}, "
                f"or be a list of such addresses, got {type(connected).__name__} {show(connected)}"
            )
        self.networks = []
        for dev, value, what in items:
            interface = None
            if isinstance(value, str) and '/' in value:
                try:
                    interface = ipaddress.ip_interface(value.strip())
                except ValueError:
                    pass
            if interface is None:
                raise PodCidrError(f"{what} = {show(value)} is not an address with prefix length; write it as e.g. '198.18.0.11/24'")
            network = interface.network
            self.networks.append((network.version, int(network.network_address), int(network.broadcast_address),
                                  network.prefixlen, int(interface.ip), dev, str(network)))

    def describe(self):
        if not self.networks:
            return 'none'
        return ', '.join(f'{dev} {text}' if dev else text for *_ignored, dev, text in self.networks)

    def device(self, name, version, number, via, self_name):
        """The device of the most specific connected network that holds via; PodCidrError if none does."""
        best = None
        for network in self.networks:
            net_version, first, last, prefix, own, dev, _net_text = network
            if net_version != version or not first <= number <= last:
                continue
            if number == own:
                raise PodCidrError(
                    f"node {name!r} is routed via {via}, which is an address of host {self_name!r} itself"
                    f"{f' (on {dev})' if dev else ''}; two hosts cannot share an IP: fix node_ips[{name!r}]"
                )
            if best is None or prefix > best[3]:
                best = network
        if best is None:
            raise PodCidrError(
                f"node {name!r} is routed via {via}, which is not on a directly connected network of host {self_name!r} "
                f"(its networks: {self.describe()}); static routes need every node on one L2 segment: give node_ips[{name!r}] "
                f"an address on one of these networks, or route pods with an overlay or BGP instead"
            )
        return best[5]


def _check_hops_outside_pod_cidrs(entries, hops):
    """No next hop may lie inside a pod CIDR: the route to it would point into the pod network.

    entries: sorted, disjoint (version, first, last, text, ..., name) of every pod CIDR;
    hops: (version, number, via text, node) of every route.
    """
    starts = {4: [], 6: []}
    blocks = {4: [], 6: []}
    for entry in entries:
        starts[entry[0]].append(entry[1])
        blocks[entry[0]].append(entry)
    find = bisect.bisect_right
    for version, number, via, node in hops:
        pos = find(starts[version], number) - 1
        if pos >= 0 and blocks[version][pos][2] >= number:
            owner = blocks[version][pos]
            raise PodCidrError(
                f"node {node!r} is routed via {via}, which lies inside pod_cidr_map[{owner[-1]!r}] '{owner[3]}'; "
                f"node IPs and pod CIDRs must not overlap: take the cluster CIDR from a range the nodes' network does not use"
            )


def static_routes(pod_cidr_map, node_ips, self_name, connected=None):
    """Routes from self_name to the pod CIDR of every other node.

    :arg pod_cidr_map: mapping node -> pod CIDR string or list of CIDRs (one per family).
    :arg node_ips: mapping node -> IP address string or list of addresses (one per family).
    :arg self_name: the node the routes are for; it gets no route to its own CIDR and
        need not be in pod_cidr_map (e.g. a control-plane host that is not a node).
    :arg connected: None, or the host's own interface addresses with prefix length: a mapping
        interface name -> list of them (each route then gets its dev), or a plain list. Every
        next hop must lie on one of these networks and must not be one of these addresses.
    :returns: list of dicts with dest, via and node (and dev), IPv4 first, then by destination address.
    :raises PodCidrError: on bad input, a node without a next hop of the right family,
        pod CIDRs that overlap, or a next hop that is not directly connected.
    """
    if not isinstance(pod_cidr_map, Mapping):
        raise PodCidrError(f"pod_cidr_map must be a mapping of node name to pod CIDR (the result of pod_cidrs), got {show(pod_cidr_map)}")
    if not isinstance(node_ips, Mapping):
        raise PodCidrError(f"node_ips must be a mapping of node name to IP address, got {show(node_ips)}")
    if not isinstance(self_name, str) or not self_name:
        raise PodCidrError(f"self_name must be the name of the node the routes are for, e.g. inventory_hostname, got {show(self_name)}")
    networks = None if connected is None else _Connected(connected)

    cidr_match = V4_CIDR_RE.fullmatch
    address_match = V4_ADDRESS_RE.fullmatch
    entries = []
    for name, value in pod_cidr_map.items():
        if not isinstance(name, str):
            raise PodCidrError(f"pod_cidr_map has the key {show(name)}; node names are strings")
        # Fast path for the common case, a canonical IPv4 CIDR routed via a
        # canonical IPv4 address; anything else takes the general path below.
        block = cidr_match(value) if isinstance(value, str) and name != self_name else None
        if block is not None:
            via = node_ips.get(name)
            hop = address_match(via) if isinstance(via, str) else None
            if hop is not None:
                a, b, c, d, prefix = map(int, block.groups())
                first = (a << 24) | (b << 16) | (c << 8) | d
                size = 1 << (32 - prefix)
                if not first & (size - 1):
                    a, b, c, d = map(int, hop.groups())
                    entries.append((4, first, first + size - 1, block.group(0), hop.group(0), (a << 24) | (b << 16) | (c << 8) | d, name))
                    continue
        blocks = _node_blocks(name, value)
        if name == self_name:
            # Only for the overlap check: no route to the node's own pods.
            entries.extend((version, first, last, text, None, None, name) for version, first, last, text in blocks)
            continue
        if name not in node_ips:
            raise PodCidrError(f"node {name!r} has a pod CIDR but no address in node_ips; add node_ips[{name!r}]")
        addresses = _node_addresses(name, node_ips[name])
        for version, first, last, text in blocks:
            if version not in addresses:
                raise PodCidrError(
                    f"node {name!r} has the {family_name(version)} pod CIDR '{text}' but node_ips[{name!r}] = "
                    f"{show(node_ips[name])} has no {family_name(version)} address; add one or drop that pod CIDR"
                )
            via, number = addresses[version]
            entries.append((version, first, last, text, via, number, name))

    entries.sort(key=lambda entry: entry[:3])
    routes = []
    hops = []
    widest = None  # the entry so far that reaches furthest (with no overlap, the last one)
    for entry in entries:
        version, first, _last, text, via, number, name = entry
        if widest is not None and widest[0] == version and first <= widest[2]:
            raise PodCidrError(
                f"pod_cidr_map[{widest[-1]!r}] '{widest[3]}' and pod_cidr_map[{name!r}] '{text}' overlap; every node needs a pod CIDR of its own"
            )
        widest = entry
        if via is not None:
            routes.append({'dest': text, 'via': via, 'node': name})
            hops.append((version, number, via, name))
    _check_hops_outside_pod_cidrs(entries, hops)
    if networks is not None:
        devices = {}
        for route, (version, number, via, name) in zip(routes, hops):
            if via not in devices:
                devices[via] = networks.device(name, version, number, via, self_name)
            if networks.named:
                route['dev'] = devices[via]
    return routes
