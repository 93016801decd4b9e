# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Pod CIDR allocation: one block per node and IP family.

This module is private to the hardway.kubernetes collection; its API may
change without notice.

Blocks are addressed by index (``network_address + index * block_size``) and
never enumerated, so the cost grows with the number of nodes, not with the
size of the cluster CIDR. Rules:

* deterministic: new nodes are taken in natural name order (``node2`` before
  ``node10``) and get the lowest free block indices, whatever the order of the
  node list;
* stable: an existing assignment of a node that is still in the node list never
  moves; entries of nodes no longer in the list are dropped and their blocks
  become free again;
* every block lies inside the cluster CIDR, blocks never overlap each other,
  and blocks that overlap a service CIDR are skipped.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Mapping

__all__ = [
    'V4_ADDRESS_RE', 'V4_CIDR_RE', 'PodCidrError', 'allocate_pod_cidrs', 'capacity', 'family_name',
    'format_block', 'parse_address', 'parse_block', 'parse_network', 'show',
]

_FAMILY = {4: 'IPv4', 6: 'IPv6'}
# Canonical dotted quads (what ipaddress prints) take a fast path; anything
# else goes through ipaddress, which accepts or rejects it and says why.
_OCTET = r'(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
V4_ADDRESS_RE = re.compile(rf'{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}')
V4_CIDR_RE = re.compile(rf'{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}/(3[0-2]|[12]?[0-9])')
_PREFIX_RE = re.compile(r'/?([0-9]{1,3})')
_DIGITS_RE = re.compile(r'[0-9]+')
_LIST_TYPES = (list, tuple)


class PodCidrError(ValueError):
    """Bad input for the pod CIDR allocator or the route table builder.

    The message names the input, the bad value and the fix.
    """


def show(value, limit=80):
    """Short repr of a user value for error messages."""
    text = repr(value)
    if len(text) > limit:
        text = text[:limit - 3] + '...'
    return text


def family_name(version):
    """'IPv4' or 'IPv6' for an IP version number."""
    return _FAMILY[version]


def parse_network(value, what):
    """Parse a CIDR string into an ip_network; PodCidrError names ``what``."""
    if not isinstance(value, str):
        raise PodCidrError(f"{what} must be a CIDR string such as '100.64.0.0/16', got {type(value).__name__} {show(value)}")
    text = value.strip()
    if '/' in text:
        try:
            return ipaddress.ip_network(text)
        except ValueError:
            pass
    hint = ''
    if ',' in text:
        hint = "; for dual-stack give a list of two CIDRs, e.g. ['100.64.0.0/16', 'fd00:100:64::/48']"
    elif '/' not in text:
        raise PodCidrError(f"{what} = {show(value)} has no prefix length; write it as a CIDR such as '100.64.0.0/16'")
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise PodCidrError(f"{what} = {show(value)} is not a CIDR; write it as e.g. '100.64.0.0/16'{hint}") from None
    raise PodCidrError(f"{what} = {show(value)} has host bits set; use its network '{loose}'")


def parse_block(value, what):
    """Parse a CIDR string into (version, first address as int, prefix length, canonical text).

    Same rules and errors as parse_network, faster for canonical IPv4 CIDRs.
    """
    if isinstance(value, str):
        match = V4_CIDR_RE.fullmatch(value)
        if match:
            a, b, c, d, prefix = map(int, match.groups())
            start = (a << 24) | (b << 16) | (c << 8) | d
            if not start & ((1 << (32 - prefix)) - 1):
                return 4, start, prefix, match.group(0)
    network = parse_network(value, what)
    return network.version, int(network.network_address), network.prefixlen, str(network)


def parse_address(value, what):
    """Parse an IP address string into (version, address as int, canonical text)."""
    if not isinstance(value, str):
        raise PodCidrError(f"{what} must be an IP address string such as '198.18.0.2', got {type(value).__name__} {show(value)}")
    match = V4_ADDRESS_RE.fullmatch(value)
    if match:
        a, b, c, d = map(int, match.groups())
        return 4, (a << 24) | (b << 16) | (c << 8) | d, match.group(0)
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        raise PodCidrError(f"{what} = {show(value)} is not an IP address; write it without a prefix length, e.g. '198.18.0.2'") from None
    return address.version, int(address), str(address)


def format_block(version, start, prefix):
    """Canonical CIDR text of the block that starts at the integer address start."""
    if version == 4:
        return f'{start >> 24}.{(start >> 16) & 255}.{(start >> 8) & 255}.{start & 255}/{prefix}'
    return f'{ipaddress.IPv6Address(start)}/{prefix}'


def _parse_prefix(value, what, cluster, cluster_what):
    if isinstance(value, int) and not isinstance(value, bool):
        prefix = value
    elif isinstance(value, str) and _PREFIX_RE.fullmatch(value.strip()):
        prefix = int(value.strip().lstrip('/'))
    else:
        raise PodCidrError(f"{what} must be a prefix length, an integer such as 24, got {type(value).__name__} {show(value)}")
    maxlen = cluster.max_prefixlen
    if not 0 <= prefix <= maxlen:
        raise PodCidrError(f"{what} = {prefix} is not a valid {family_name(cluster.version)} prefix length; use 0 to {maxlen}")
    if prefix < cluster.prefixlen:
        raise PodCidrError(
            f"{what} = {prefix} is shorter than the prefix of {cluster_what} '{cluster}' (/{cluster.prefixlen}), "
            f"so a node block would be larger than the cluster CIDR; use a {what} of at least {cluster.prefixlen}"
        )
    return prefix


def _merge(spans):
    """Merge (first, last) index spans into sorted, disjoint spans."""
    merged = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1] + 1:
            if last > merged[-1][1]:
                merged[-1][1] = last
        else:
            merged.append([first, last])
    return [tuple(span) for span in merged]


def _blocked_spans(cluster, prefix, services):
    """Index spans of the /prefix blocks of cluster that overlap a service CIDR."""
    low = int(cluster.network_address)
    high = int(cluster.broadcast_address)
    host_bits = cluster.max_prefixlen - prefix
    spans = []
    for service in services:
        if service.version != cluster.version:
            continue
        start = int(service.network_address)
        end = int(service.broadcast_address)
        if end < low or start > high:
            continue
        spans.append(((max(start, low) - low) >> host_bits, (min(end, high) - low) >> host_bits))
    return _merge(spans)


def capacity(cluster, prefix, services=()):
    """Number of /prefix blocks of cluster that do not overlap any service CIDR."""
    blocks = 1 << (prefix - cluster.prefixlen)
    return blocks - sum(last - first + 1 for first, last in _blocked_spans(cluster, prefix, services))


class _Family:
    """One IP family of the cluster: its CIDR, node prefix and free blocks."""

    def __init__(self, cluster, prefix, where, prefix_where, services):
        self.cluster = cluster
        self.prefix = prefix
        self.where = where
        self.prefix_where = prefix_where
        self.version = cluster.version
        self.base = int(cluster.network_address)
        self.host_bits = cluster.max_prefixlen - prefix
        self.blocks = 1 << (prefix - cluster.prefixlen)
        self.blocked = _blocked_spans(cluster, prefix, services)
        self.blocked_starts = [first for first, _last in self.blocked]
        self.blocked_count = sum(last - first + 1 for first, last in self.blocked)
        self.capacity = self.blocks - self.blocked_count
        self.services = [service for service in services if service.version == cluster.version]
        self.assigned = {}
        self.owner = {}

    def is_blocked(self, index):
        pos = bisect.bisect_right(self.blocked_starts, index) - 1
        return pos >= 0 and self.blocked[pos][1] >= index

    def cidr(self, index):
        return format_block(self.version, self.base + (index << self.host_bits), self.prefix)

    def take_existing(self, name, value, what):
        version, start, prefix, _text = parse_block(value, what)
        if version != self.version:
            raise PodCidrError(
                f"{what} = {show(value)} is {family_name(version)} but {self.where} '{self.cluster}' is "
                f"{family_name(self.version)}; give the {family_name(self.version)} block here"
            )
        if prefix != self.prefix:
            raise PodCidrError(
                f"{what} = {show(value)} is a /{prefix} but {self.prefix_where} is {self.prefix}; existing "
                f"assignments keep their size: use {self.prefix_where} {prefix}, or drop existing to renumber every node"
            )
        offset = start - self.base
        if offset < 0 or offset >> self.host_bits >= self.blocks:
            raise PodCidrError(
                f"{what} = {show(value)} is outside {self.where} '{self.cluster}'; remove it from existing "
                f"to give the node a new block, or use the cluster CIDR it was allocated from"
            )
        index = offset >> self.host_bits
        if self.is_blocked(index):
            raise PodCidrError(
                f"{what} = {show(value)} overlaps service_cidr {', '.join(repr(str(s)) for s in self.services)}; "
                f"remove it from existing to give the node a new block"
            )
        other = self.owner.get(index)
        if other is not None:
            raise PodCidrError(
                f"{what} = {show(value)} overlaps the block of node {other!r} (the same CIDR); "
                f"two nodes cannot share a pod CIDR: remove one of them from existing"
            )
        self.owner[index] = name
        self.assigned[name] = index

    def check_capacity(self, wanted):
        if wanted <= self.capacity:
            return
        services = f' minus {self.blocked_count} overlapping service_cidr' if self.blocked_count else ''
        head = (
            f"{self.where} '{self.cluster}' with {self.prefix_where} {self.prefix} has room for {self.capacity} nodes "
            f"({self.blocks} blocks of /{self.prefix}{services}) but {wanted} nodes were asked for"
        )
        for longer in range(self.prefix + 1, self.cluster.max_prefixlen + 1):
            fits = capacity(self.cluster, longer, self.services)
            if fits >= wanted:
                moves = f' (changing {self.prefix_where} renumbers every existing assignment)' if self.assigned else ''
                raise PodCidrError(
                    f"{head}; use {self.prefix_where} {longer} ({1 << (self.cluster.max_prefixlen - longer)} addresses per node, "
                    f"fits {fits} nodes) or a larger {self.where}{moves}"
                )
        if not capacity(self.cluster, self.cluster.max_prefixlen, self.services):
            raise PodCidrError(f"{head}; service_cidr covers all of {self.where}: keep the service CIDR out of the cluster CIDR")
        raise PodCidrError(f"{head}; {self.where} is too small for {wanted} nodes even with one address per node: use a larger {self.where}")

    def allocate(self, names):
        """Give each new name (already in order) the lowest free block index."""
        used = self.owner
        blocked = self.blocked
        nblocked = len(blocked)
        pos = 0
        index = 0
        for name in names:
            while True:
                while pos < nblocked and blocked[pos][1] < index:
                    pos += 1
                if pos < nblocked and blocked[pos][0] <= index:
                    index = blocked[pos][1] + 1
                    continue
                if index in used:
                    index += 1
                    continue
                break
            self.assigned[name] = index
            index += 1


def _number_run(match):
    digits = match.group()
    return chr(len(digits)) + digits


def _natural_key(name):
    """Sort key in which digit runs compare as numbers (node2 < node10).

    Each digit run gets its length as a prefix character, so longer numbers
    sort after shorter ones; the name itself breaks ties (node01 vs node1).
    """
    return _DIGITS_RE.sub(_number_run, name), name


def _parse_services(service_cidr):
    if service_cidr is None:
        return []
    if isinstance(service_cidr, str):
        return [parse_network(service_cidr, 'service_cidr')]
    if isinstance(service_cidr, _LIST_TYPES):
        return [parse_network(value, f'service_cidr[{i}]') for i, value in enumerate(service_cidr)]
    raise PodCidrError(
        f"service_cidr must be a CIDR string or a list of CIDR strings (one per family), got {type(service_cidr).__name__} {show(service_cidr)}"
    )


def _parse_families(cluster_cidr, node_prefix, services):
    if isinstance(cluster_cidr, str):
        if isinstance(node_prefix, _LIST_TYPES):
            raise PodCidrError(
                f"node_prefix is a list {show(node_prefix)} but cluster_cidr {show(cluster_cidr)} is one CIDR; for single-stack give "
                f"node_prefix as one integer, for dual-stack give cluster_cidr as a list of one IPv4 and one IPv6 CIDR"
            )
        cluster = parse_network(cluster_cidr, 'cluster_cidr')
        prefix = _parse_prefix(node_prefix, 'node_prefix', cluster, 'cluster_cidr')
        return [_Family(cluster, prefix, 'cluster_cidr', 'node_prefix', services)], False
    if not isinstance(cluster_cidr, _LIST_TYPES):
        raise PodCidrError(
            f"cluster_cidr must be a CIDR string, or a list of one IPv4 and one IPv6 CIDR for dual-stack, "
            f"got {type(cluster_cidr).__name__} {show(cluster_cidr)}"
        )
    if len(cluster_cidr) != 2:
        raise PodCidrError(
            f"cluster_cidr {show(cluster_cidr)} has {len(cluster_cidr)} entries; a dual-stack cluster_cidr is a list of exactly one IPv4 "
            f"and one IPv6 CIDR, a single-stack one is a plain string"
        )
    clusters = [parse_network(value, f'cluster_cidr[{i}]') for i, value in enumerate(cluster_cidr)]
    if clusters[0].version == clusters[1].version:
        raise PodCidrError(
            f"cluster_cidr {show(cluster_cidr)} has two {family_name(clusters[0].version)} CIDRs; "
            f"a dual-stack cluster_cidr is one IPv4 and one IPv6 CIDR"
        )
    if not isinstance(node_prefix, _LIST_TYPES) or len(node_prefix) != 2:
        raise PodCidrError(
            f"node_prefix must be a list of two prefix lengths in the order of cluster_cidr {show(cluster_cidr)} "
            f"(e.g. [24, 64]), got {show(node_prefix)}"
        )
    families = []
    for i, (cluster, value) in enumerate(zip(clusters, node_prefix)):
        prefix = _parse_prefix(value, f'node_prefix[{i}]', cluster, f'cluster_cidr[{i}]')
        families.append(_Family(cluster, prefix, f'cluster_cidr[{i}]', f'node_prefix[{i}]', services))
    return families, True


def _parse_nodes(nodes):
    if isinstance(nodes, (str, bytes, Mapping)) or not isinstance(nodes, (list, tuple, set, frozenset)):
        raise PodCidrError(f"nodes must be a list of node names, got {type(nodes).__name__} {show(nodes)}")
    names = set()
    for i, name in enumerate(nodes):
        if not isinstance(name, str) or not name.strip():
            raise PodCidrError(f"nodes[{i}] = {show(name)} is not a node name; node names are non-empty strings")
        names.add(name)
    return names


def _take_existing(existing, families, dual, ordered):
    if existing is None:
        return
    if not isinstance(existing, Mapping):
        raise PodCidrError(
            f"existing must be a mapping of node name to pod CIDR (e.g. the previous result of pod_cidrs), "
            f"got {type(existing).__name__} {show(existing)}"
        )
    for name in ordered:
        if name not in existing:
            continue
        value = existing[name]
        what = f'existing[{name!r}]'
        if value is None:
            continue
        if not dual:
            families[0].take_existing(name, value, what)
            continue
        if isinstance(value, str):
            # A node that got a block before the cluster went dual-stack:
            # keep that block, allocate the other family.
            version = parse_block(value, what)[0]
            for family in families:
                if family.version == version:
                    family.take_existing(name, value, what)
            continue
        if not isinstance(value, _LIST_TYPES) or len(value) != 2:
            raise PodCidrError(
                f"{what} = {show(value)} must be a list of two CIDRs in the order of cluster_cidr "
                f"({', '.join(family_name(f.version) for f in families)})"
            )
        for i, (family, item) in enumerate(zip(families, value)):
            family.take_existing(name, item, f'{what}[{i}]')


def allocate_pod_cidrs(nodes, cluster_cidr, node_prefix, service_cidr=None, existing=None):
    """Assign a pod CIDR to every node.

    :arg nodes: node names (list); duplicates count once.
    :arg cluster_cidr: CIDR string, or a list of one IPv4 and one IPv6 CIDR (dual-stack).
    :arg node_prefix: prefix length of each node's block; a list in the order of cluster_cidr for dual-stack.
    :arg service_cidr: None, a CIDR string or a list of them; blocks overlapping them are skipped.
    :arg existing: mapping node -> CIDR (or list of two CIDRs) from an earlier allocation; kept as is.
    :returns: dict node -> CIDR string, or node -> [CIDR, CIDR] for dual-stack, in natural name order.
    :raises PodCidrError: on bad input or when the nodes do not fit.
    """
    services = _parse_services(service_cidr)
    families, dual = _parse_families(cluster_cidr, node_prefix, services)
    ordered = sorted(_parse_nodes(nodes), key=_natural_key)
    _take_existing(existing, families, dual, ordered)
    for family in families:
        family.check_capacity(len(ordered))
    for family in families:
        family.allocate([name for name in ordered if name not in family.assigned])
    if not dual:
        family = families[0]
        return {name: family.cidr(family.assigned[name]) for name in ordered}
    return {name: [family.cidr(family.assigned[name]) for family in families] for name in ordered}
