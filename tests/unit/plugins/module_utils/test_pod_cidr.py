# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Tests for the pod CIDR allocator (plugins/module_utils/_pod_cidr.py).

The property tests compare the allocator, which works by block index, with a
naive model that enumerates every block with ipaddress.subnets().
"""

from __future__ import annotations

import ipaddress
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.hardway.kubernetes.plugins.module_utils._pod_cidr import (
    PodCidrError,
    allocate_pod_cidrs,
    capacity,
    parse_block,
    parse_network,
)

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

V4_POOL = ipaddress.ip_network('100.64.0.0/10')
V6_POOL = ipaddress.ip_network('fd00:100:64::/48')
DIGITS = '0123456789'


# --- a naive model -----------------------------------------------------------

def natural_order(names):
    """Natural order, written independently: digit runs compare as numbers
    (shorter runs first, then digit by digit) and sort before other text."""
    def key(name):
        runs = [(0, len(run), run) if run[0] in DIGITS else (1, run) for run in re.findall(r'[0-9]+|[^0-9]+', name)]
        return runs, name
    return sorted(set(names), key=key)


def model_capacity(cluster, prefix, service):
    """Blocks that do not overlap the service CIDR, by enumeration (keep prefix - cluster prefix small)."""
    blocks = list(cluster.subnets(new_prefix=prefix))
    return sum(1 for block in blocks if service is None or not block.overlaps(service))


def formula_capacity(cluster, prefix, service):
    """The same number for any prefix, from the size of the service/cluster intersection."""
    blocks = 2 ** (prefix - cluster.prefixlen)
    if service is None or not service.overlaps(cluster):
        return blocks
    common = service if service.subnet_of(cluster) else cluster
    return blocks - (1 if common.prefixlen >= prefix else 2 ** (prefix - common.prefixlen))


def model_allocate(nodes, cluster, prefix, service=None, existing=None):
    """Enumerate every block; kept nodes keep theirs, new nodes in order get the lowest free ones."""
    cluster = ipaddress.ip_network(cluster)
    service = ipaddress.ip_network(service) if service else None
    existing = existing or {}
    kept = {name: ipaddress.ip_network(existing[name]) for name in set(nodes) if existing.get(name)}
    free = [block for block in cluster.subnets(new_prefix=prefix)
            if (service is None or not block.overlaps(service)) and block not in kept.values()]
    new = [name for name in natural_order(nodes) if name not in kept]
    if len(new) > len(free):
        return None
    result = dict(kept)
    result.update(zip(new, free))
    return {name: str(network) for name, network in result.items()}


# --- strategies --------------------------------------------------------------

@st.composite
def subnet_of(draw, pool, min_prefix, max_prefix):
    prefix = draw(st.integers(min_prefix, max_prefix))
    index = draw(st.integers(0, (1 << (prefix - pool.prefixlen)) - 1))
    size = 1 << (pool.max_prefixlen - prefix)
    return ipaddress.ip_network((int(pool.network_address) + index * size, prefix))


@st.composite
def single_stack(draw, pool=V4_POOL, cluster_prefixes=(16, 26)):
    """cluster CIDR, node prefix (at most 128 blocks), optional service CIDR inside, around or away from the cluster."""
    cluster = draw(subnet_of(pool, *cluster_prefixes))
    prefix = draw(st.integers(cluster.prefixlen, min(cluster.prefixlen + 7, cluster.max_prefixlen)))
    service = draw(st.one_of(
        st.none(),
        subnet_of(cluster, cluster.prefixlen, cluster.max_prefixlen),
        subnet_of(pool, max(pool.prefixlen, cluster.prefixlen - 2), cluster.max_prefixlen),
    ))
    return str(cluster), prefix, (str(service) if service is not None else None)


# Names that exercise the natural order: numbers of different lengths, leading zeros, digits next to text.
NAME_POOL = sorted({f'{head}{number}' for head in ('n', 'node-', 'r1-n', 'x.') for number in ('1', '2', '9', '10', '11', '100', '01', '007')}
                   | {'a', 'b', 'ab', 'b1a', '7', 'z'})
NAMES = st.lists(st.sampled_from(NAME_POOL), unique=True, max_size=40)
NEW_NAMES = [f'new{i}' for i in range(40)]


def check_allocation(result, nodes, cluster, prefix, service):
    """Everything that must hold for any successful single-stack allocation."""
    cluster = ipaddress.ip_network(cluster)
    service = ipaddress.ip_network(service) if service else None
    assert set(result) == set(nodes)
    networks = [ipaddress.ip_network(value) for value in result.values()]
    for network in networks:
        assert network.prefixlen == prefix
        assert network.subnet_of(cluster)
        assert service is None or not network.overlaps(service)
    networks.sort()
    for first, second in zip(networks, networks[1:]):
        assert not first.overlaps(second)


# --- examples ----------------------------------------------------------------

def test_lowest_blocks_in_natural_name_order():
    result = allocate_pod_cidrs(['node10', 'node2', 'node1'], '100.64.0.0/16', 24)
    assert result == {'node1': '100.64.0.0/24', 'node2': '100.64.1.0/24', 'node10': '100.64.2.0/24'}
    assert list(result) == ['node1', 'node2', 'node10']


def test_service_blocks_are_skipped():
    result = allocate_pod_cidrs(['a', 'b', 'c'], '100.64.0.0/24', 26, service_cidr='100.64.0.64/27')
    assert result == {'a': '100.64.0.0/26', 'b': '100.64.0.128/26', 'c': '100.64.0.192/26'}


def test_service_list_of_both_families_and_service_larger_than_block():
    result = allocate_pod_cidrs(['a', 'b'], '100.64.0.0/22', 26, service_cidr=['fd00:100:65::/108', '100.64.0.0/23'])
    assert result == {'a': '100.64.2.0/26', 'b': '100.64.2.64/26'}


def test_existing_kept_removed_freed_and_gaps_filled():
    first = allocate_pod_cidrs(['a', 'b', 'c'], '100.64.0.0/24', 26)
    second = allocate_pod_cidrs(['a', 'c', 'd', 'e'], '100.64.0.0/24', 26, existing=first)
    assert second['a'] == first['a'] and second['c'] == first['c']
    assert 'b' not in second
    # d takes the block b left behind, e the next free one
    assert second['d'] == first['b']
    assert second['e'] == '100.64.0.192/26'


def test_existing_none_means_unassigned():
    result = allocate_pod_cidrs(['a', 'b'], '100.64.0.0/24', 26, existing={'a': None, 'b': '100.64.0.0/26'})
    assert result == {'a': '100.64.0.64/26', 'b': '100.64.0.0/26'}


def test_duplicates_count_once_and_tuples_and_sets_work():
    assert allocate_pod_cidrs(('a', 'a', 'b'), '100.64.0.0/25', 26) == allocate_pod_cidrs({'b', 'a'}, '100.64.0.0/25', 26)


def test_empty_node_list():
    assert not allocate_pod_cidrs([], '100.64.0.0/24', 26)


def test_prefix_may_be_a_string_from_extra_vars():
    assert allocate_pod_cidrs(['a'], '100.64.0.0/24', '26') == allocate_pod_cidrs(['a'], '100.64.0.0/24', '/26') == {'a': '100.64.0.0/26'}


def test_whole_cluster_as_one_block_and_one_address_blocks():
    assert allocate_pod_cidrs(['a'], '100.64.0.0/24', 24) == {'a': '100.64.0.0/24'}
    assert allocate_pod_cidrs(['a', 'b'], '100.64.0.0/31', 32) == {'a': '100.64.0.0/32', 'b': '100.64.0.1/32'}


def test_dual_stack_pairs_in_cluster_order():
    result = allocate_pod_cidrs(['n2', 'n1'], ['100.64.0.0/16', 'fd00:100:64::/48'], [24, 64])
    assert result == {'n1': ['100.64.0.0/24', 'fd00:100:64::/64'], 'n2': ['100.64.1.0/24', 'fd00:100:64:1::/64']}
    flipped = allocate_pod_cidrs(['n2', 'n1'], ['fd00:100:64::/48', '100.64.0.0/16'], [64, 24])
    assert flipped == {name: pair[::-1] for name, pair in result.items()}


def test_dual_stack_families_are_independent():
    existing = {'a': ['100.64.0.64/26', 'fd00:100:64::/64']}
    result = allocate_pod_cidrs(['a', 'b'], ['100.64.0.0/24', 'fd00:100:64::/48'], [26, 64], existing=existing)
    assert result == {'a': ['100.64.0.64/26', 'fd00:100:64::/64'], 'b': ['100.64.0.0/26', 'fd00:100:64:1::/64']}


def test_dual_stack_existing_single_cidr_keeps_it_and_gets_the_other_family():
    result = allocate_pod_cidrs(['a', 'b'], ['100.64.0.0/24', 'fd00:100:64::/48'], [26, 64],
                                existing={'a': '100.64.0.128/26', 'b': 'fd00:100:64:7::/64'})
    assert result == {'a': ['100.64.0.128/26', 'fd00:100:64::/64'], 'b': ['100.64.0.0/26', 'fd00:100:64:7::/64']}


def test_ipv6_uses_full_width_addresses_from_zero():
    # Block 0 of ::/64 must stay IPv6 even though its integer value is small.
    assert allocate_pod_cidrs(['a', 'b'], '::/64', 120) == {'a': '::/120', 'b': '::100/120'}


def test_huge_ipv6_cluster_skips_a_service_half_of_it():
    # 2**104 blocks: an allocator that enumerated them would never return.
    result = allocate_pod_cidrs(['a', 'b'], 'fd00::/16', 120, service_cidr='fd00::/17')
    assert result == {'a': 'fd00:8000::/120', 'b': 'fd00:8000::100/120'}


def test_capacity_counts_blocks_minus_service_overlap():
    cluster = ipaddress.ip_network('100.64.0.0/16')
    assert capacity(cluster, 24) == 256
    assert capacity(cluster, 24, [ipaddress.ip_network('100.64.255.0/24')]) == 255
    assert capacity(cluster, 24, [ipaddress.ip_network('100.0.0.0/8')]) == 0
    assert capacity(cluster, 24, [ipaddress.ip_network('fd00::/8')]) == 256


def test_parse_block_fast_path_agrees_with_ipaddress():
    for text in ['0.0.0.0/0', '100.64.0.0/10', '255.255.255.255/32', '100.64.0.0/255.255.0.0', ' 100.64.1.0/24', 'fd00::/8', '100.064.0.0/16']:
        try:
            expected = ipaddress.ip_network(text.strip())
        except ValueError:
            with pytest.raises(PodCidrError):
                parse_block(text, 'x')
            continue
        assert parse_block(text, 'x') == (expected.version, int(expected.network_address), expected.prefixlen, str(expected))


# --- errors name the input -----------------------------------------------------

@pytest.mark.parametrize(('kwargs', 'words'), [
    ({'cluster_cidr': '100.64.0.1/16'}, ["cluster_cidr = '100.64.0.1/16'", 'host bits', "'100.64.0.0/16'"]),
    ({'cluster_cidr': 'pods'}, ["cluster_cidr = 'pods'", 'no prefix length']),
    ({'cluster_cidr': '100.64.0.0/33'}, ["cluster_cidr = '100.64.0.0/33'", 'not a CIDR']),
    ({'cluster_cidr': '100.64.0.0/16,fd00::/48'}, ['cluster_cidr', 'dual-stack', 'list']),
    ({'cluster_cidr': 42}, ['cluster_cidr', 'int', '42']),
    ({'cluster_cidr': None}, ['cluster_cidr', 'NoneType']),
    ({'node_prefix': 8}, ['node_prefix = 8', 'shorter', "'100.64.0.0/16'", 'at least 16']),
    ({'node_prefix': 33}, ['node_prefix = 33', 'IPv4', '0 to 32']),
    ({'node_prefix': True}, ['node_prefix', 'bool']),
    ({'node_prefix': 'big'}, ['node_prefix', "'big'"]),
    ({'node_prefix': [24, 64]}, ['node_prefix', 'list', 'cluster_cidr', 'dual-stack']),
    ({'service_cidr': '100.64.0.0/8'}, ["service_cidr = '100.64.0.0/8'", 'host bits']),
    ({'service_cidr': ['100.64.255.0/24', 'x']}, ["service_cidr[1] = 'x'"]),
    ({'service_cidr': {'a': 1}}, ['service_cidr', 'dict']),
    ({'nodes': 'node1'}, ['nodes', 'list', "'node1'"]),
    ({'nodes': {'a': 1}}, ['nodes', 'dict']),
    ({'nodes': ['a', '']}, ["nodes[1] = ''"]),
    ({'nodes': ['a', 7]}, ['nodes[1] = 7']),
    ({'existing': ['a']}, ['existing', 'mapping', 'list']),
    ({'existing': {'a': 'nope'}}, ["existing['a'] = 'nope'"]),
    ({'existing': {'a': '100.64.0.1/24'}}, ["existing['a'] = '100.64.0.1/24'", 'host bits', "'100.64.0.0/24'"]),
    ({'existing': {'a': '100.65.0.0/24'}}, ["existing['a'] = '100.65.0.0/24'", 'outside cluster_cidr', "'100.64.0.0/16'"]),
    ({'existing': {'a': '100.64.0.0/25'}}, ["existing['a'] = '100.64.0.0/25'", '/25', 'node_prefix is 24']),
    ({'existing': {'a': 'fd00::/24'}}, ["existing['a'] = 'fd00::/24'", 'IPv6', 'IPv4']),
    ({'existing': {'a': '100.64.3.0/24', 'b': '100.64.3.0/24'}}, ["existing['b'] = '100.64.3.0/24'", "node 'a'"]),
    ({'existing': {'a': ['100.64.3.0/24']}}, ["existing['a']", 'CIDR string', 'list']),
    ({'existing': {'a': '100.64.255.0/24'}, 'service_cidr': '100.64.255.0/24'}, ["existing['a'] = '100.64.255.0/24'", 'service_cidr']),
])
def test_bad_input_is_named(kwargs, words):
    arguments = {'nodes': ['a', 'b'], 'cluster_cidr': '100.64.0.0/16', 'node_prefix': 24}
    arguments.update(kwargs)
    with pytest.raises(PodCidrError) as info:
        allocate_pod_cidrs(**arguments)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(('cluster', 'prefix', 'existing', 'words'), [
    (['100.64.0.0/16'], [24], None, ['cluster_cidr', '1 entries', 'exactly one IPv4 and one IPv6']),
    (['100.64.0.0/16', '100.65.0.0/16'], [24, 24], None, ['two IPv4']),
    (['100.64.0.0/16', 'fd00::/48'], 24, None, ['node_prefix', 'list of two', '[24, 64]']),
    (['100.64.0.0/16', 'fd00::/48'], [24], None, ['node_prefix', 'list of two']),
    (['100.64.0.0/16', 'fd00::/48'], [64, 24], None, ['node_prefix[0] = 64', 'IPv4']),
    (['100.64.0.0/16', 'fd00::/48'], [24, 40], None, ['node_prefix[1] = 40', "cluster_cidr[1] 'fd00::/48'"]),
    (['100.64.0.0/16', 'fd00::/48'], [24, 64], {'a': ['fd00::/64', '100.64.0.0/24']}, ["existing['a'][0] = 'fd00::/64'", 'IPv6', 'IPv4']),
    (['100.64.0.0/16', 'fd00::/48'], [24, 64], {'a': ['100.64.0.0/24']}, ["existing['a']", 'two CIDRs', 'IPv4, IPv6']),
    (['100.64.0.0/16', 'fd00::/48'], [24, 64], {'a': ['100.64.0.0/24', 'fd00::/64'], 'b': ['100.64.1.0/24', 'fd00::/64']},
     ["existing['b'][1] = 'fd00::/64'", "node 'a'"]),
])
def test_bad_dual_stack_input_is_named(cluster, prefix, existing, words):
    with pytest.raises(PodCidrError) as info:
        allocate_pod_cidrs(['a', 'b'], cluster, prefix, existing=existing)
    for word in words:
        assert word in str(info.value)


def test_capacity_error_says_what_fits_and_which_prefix_would():
    with pytest.raises(PodCidrError) as info:
        allocate_pod_cidrs([f'n{i}' for i in range(5)], '100.64.0.0/24', 26, service_cidr='100.64.0.0/27')
    message = str(info.value)
    assert "cluster_cidr '100.64.0.0/24' with node_prefix 26 has room for 3 nodes" in message
    assert '4 blocks of /26 minus 1 overlapping service_cidr' in message
    assert '5 nodes were asked for' in message
    assert 'use node_prefix 27 (32 addresses per node, fits 7 nodes)' in message


def test_capacity_error_when_nothing_fits():
    with pytest.raises(PodCidrError) as info:
        allocate_pod_cidrs(['a', 'b', 'c'], '100.64.0.0/31', 31)
    assert 'too small for 3 nodes' in str(info.value)
    with pytest.raises(PodCidrError) as info:
        allocate_pod_cidrs(['a'], '100.64.0.0/24', 26, service_cidr='100.64.0.0/16')
    assert 'room for 0 nodes' in str(info.value) and 'service_cidr covers all of cluster_cidr' in str(info.value)


def test_capacity_error_names_the_dual_stack_family():
    with pytest.raises(PodCidrError) as info:
        allocate_pod_cidrs(['a', 'b', 'c'], ['100.64.0.0/16', 'fd00::/64'], [24, 65])
    assert "cluster_cidr[1] 'fd00::/64' with node_prefix[1] 65 has room for 2 nodes" in str(info.value)
    assert 'use node_prefix[1] 66' in str(info.value)


def test_capacity_error_warns_that_a_new_prefix_renumbers():
    with pytest.raises(PodCidrError) as info:
        allocate_pod_cidrs(['a', 'b', 'c'], '100.64.0.0/25', 26, existing={'a': '100.64.0.0/26'})
    assert 'renumbers every existing assignment' in str(info.value)


def test_errors_are_value_errors_naming_the_input():
    assert issubclass(PodCidrError, ValueError)
    assert parse_network(' 100.64.0.0/16 ', 'x') == ipaddress.ip_network('100.64.0.0/16')
    with pytest.raises(PodCidrError, match=r'^the_input must be a CIDR string .* got bytes'):
        parse_network(b'100.64.0.0/16', 'the_input')


# --- properties ----------------------------------------------------------------

@PROPERTY
@given(config=single_stack(), names=NAMES, data=st.data())
def test_matches_the_enumerating_model(config, names, data):
    cluster, prefix, service = config
    expected = model_allocate(names, cluster, prefix, service)
    if expected is None:
        with pytest.raises(PodCidrError):
            allocate_pod_cidrs(names, cluster, prefix, service_cidr=service)
        return
    result = allocate_pod_cidrs(names, cluster, prefix, service_cidr=service)
    assert result == expected
    check_allocation(result, names, cluster, prefix, service)
    shuffled = data.draw(st.permutations(names))
    again = allocate_pod_cidrs(shuffled, cluster, prefix, service_cidr=service)
    assert again == result and list(again) == list(result)


@PROPERTY
@given(config=single_stack(), names=NAMES, data=st.data())
def test_stable_when_nodes_come_and_go(config, names, data):
    cluster, prefix, service = config
    fits = model_capacity(ipaddress.ip_network(cluster), prefix, ipaddress.ip_network(service) if service else None)
    first_nodes = names[:fits]
    before = allocate_pod_cidrs(first_nodes, cluster, prefix, service_cidr=service)
    removed = set(data.draw(st.lists(st.sampled_from(first_nodes), unique=True))) if first_nodes else set()
    staying = [name for name in first_nodes if name not in removed]
    added = data.draw(st.lists(st.sampled_from(NEW_NAMES), unique=True, max_size=fits - len(staying)))
    after_nodes = data.draw(st.permutations(staying + added))
    after = allocate_pod_cidrs(after_nodes, cluster, prefix, service_cidr=service, existing=before)
    assert {name: after[name] for name in staying} == {name: before[name] for name in staying}
    assert after == model_allocate(after_nodes, cluster, prefix, service, existing=before)
    check_allocation(after, after_nodes, cluster, prefix, service)


@PROPERTY
@given(config=single_stack(cluster_prefixes=(20, 28)), count=st.integers(0, 300))
def test_capacity_error_reports_the_numbers(config, count):
    cluster, prefix, service = config
    net = ipaddress.ip_network(cluster)
    svc = ipaddress.ip_network(service) if service else None
    fits = model_capacity(net, prefix, svc)
    assert formula_capacity(net, prefix, svc) == fits
    nodes = [f'n{i}' for i in range(count)]
    if count <= fits:
        check_allocation(allocate_pod_cidrs(nodes, cluster, prefix, service_cidr=service), nodes, cluster, prefix, service)
        return
    with pytest.raises(PodCidrError) as info:
        allocate_pod_cidrs(nodes, cluster, prefix, service_cidr=service)
    message = str(info.value)
    assert f'room for {fits} nodes' in message
    assert f'{count} nodes were asked for' in message
    better = [p for p in range(prefix + 1, 33) if formula_capacity(net, p, svc) >= count][:1]
    if better:
        assert f'use node_prefix {better[0]} ' in message
        assert f'fits {formula_capacity(net, better[0], svc)} nodes' in message
    else:
        assert 'too small' in message or 'covers all' in message


@PROPERTY
@given(v4=single_stack(), v6=single_stack(pool=V6_POOL, cluster_prefixes=(100, 120)), names=NAMES, order=st.booleans(), data=st.data())
def test_dual_stack_is_two_independent_single_stacks(v4, v6, names, order, data):
    families = [v4, v6] if order else [v6, v4]
    clusters = [family[0] for family in families]
    prefixes = [family[1] for family in families]
    services = [family[2] for family in families if family[2]]
    expected = [model_allocate(names, *family) for family in families]
    if None in expected:
        with pytest.raises(PodCidrError):
            allocate_pod_cidrs(names, clusters, prefixes, service_cidr=services)
        return
    result = allocate_pod_cidrs(data.draw(st.permutations(names)), clusters, prefixes, service_cidr=services)
    assert set(result) == set(names)
    for i, family in enumerate(families):
        column = {name: pair[i] for name, pair in result.items()}
        assert column == expected[i]
        check_allocation(column, names, *family)


@PROPERTY
@given(config=single_stack(), data=st.data())
def test_any_broken_existing_entry_is_named(config, data):
    cluster, prefix, service = config
    fits = formula_capacity(ipaddress.ip_network(cluster), prefix, ipaddress.ip_network(service) if service else None)
    if fits < 2:  # make room for the two nodes this test needs
        service, prefix = None, ipaddress.ip_network(cluster).prefixlen + 3
        fits = 8
    names = data.draw(st.lists(st.sampled_from(NAME_POOL), unique=True, min_size=2, max_size=min(20, fits)))
    before = model_allocate(names, cluster, prefix, service)
    victim = data.draw(st.sampled_from(sorted(before)))
    network = ipaddress.ip_network(before[victim])
    breakages = {
        'outside': str(ipaddress.ip_network((int(network.network_address) ^ (1 << 31), prefix))),
        'not a CIDR': before[victim].replace('/', '|'),
    }
    if prefix < 32:
        breakages['host bits'] = f'{network.network_address + 1}/{prefix}'
        breakages['size'] = str(next(network.subnets()))
    if prefix > ipaddress.ip_network(cluster).prefixlen:
        breakages['size'] = str(network.supernet())
    other = [name for name in before if name != victim]
    breakages['shared'] = before[other[0]]
    how = data.draw(st.sampled_from(sorted(breakages)))
    broken = dict(before)
    broken[victim] = breakages[how]
    with pytest.raises(PodCidrError) as info:
        allocate_pod_cidrs(names, cluster, prefix, service_cidr=service, existing=broken)
    message = str(info.value)
    if how == 'shared':
        # whichever of the two comes second in name order is the one reported
        assert f"existing[{victim!r}]" in message or f"node {victim!r}" in message
    else:
        assert f"existing[{victim!r}] = {breakages[how]!r}" in message


def test_fifty_thousand_nodes_a_leaver_block_goes_to_the_newcomer():
    # Functional check at scale; speed is measured by bench/pod_cidr_bench.py, not here.
    nodes = [f'node-{i}' for i in range(50000)]
    random.Random(7).shuffle(nodes)
    first = allocate_pod_cidrs(nodes, '100.64.0.0/10', 26, service_cidr='100.127.0.0/16')
    second = allocate_pod_cidrs(nodes[1:] + ['extra'], '100.64.0.0/10', 26, service_cidr='100.127.0.0/16', existing=first)
    assert len(second) == 50000 and second['extra'] == first[nodes[0]]
    assert all(second[name] == first[name] for name in nodes[1:])
