# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Tests for the pod_cidrs and static_routes filters, called the way Ansible finds them."""

from __future__ import annotations

import ipaddress

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import event, given, settings
from hypothesis import strategies as st

from ansible_collections.hardway.kubernetes.plugins.filter import pod_cidrs as pod_cidrs_plugin
from ansible_collections.hardway.kubernetes.plugins.filter import static_routes as static_routes_plugin

PROPERTY = settings(max_examples=150, deadline=None)

pod_cidrs = pod_cidrs_plugin.FilterModule().filters()['pod_cidrs']
static_routes = static_routes_plugin.FilterModule().filters()['static_routes']


def test_each_plugin_file_exposes_exactly_its_filter():
    assert set(pod_cidrs_plugin.FilterModule().filters()) == {'pod_cidrs'}
    assert set(static_routes_plugin.FilterModule().filters()) == {'static_routes'}


def test_pod_cidrs_then_static_routes_single_stack():
    nodes = ['node3', 'node1', 'node2']
    cidrs = pod_cidrs(nodes, cluster_cidr='100.64.0.0/16', node_prefix=24, service_cidr='100.64.0.0/24')
    assert cidrs == {'node1': '100.64.1.0/24', 'node2': '100.64.2.0/24', 'node3': '100.64.3.0/24'}
    ips = {'node1': '198.18.0.11', 'node2': '198.18.0.12', 'node3': '198.18.0.13'}
    assert static_routes(cidrs, ips, 'node3') == [
        {'dest': '100.64.1.0/24', 'via': '198.18.0.11', 'node': 'node1'},
        {'dest': '100.64.2.0/24', 'via': '198.18.0.12', 'node': 'node2'},
    ]


def test_pod_cidrs_then_static_routes_dual_stack_positional():
    cidrs = pod_cidrs(['b', 'a'], ['100.64.0.0/16', 'fd00:100:64::/48'], [24, 64], ['100.64.255.0/24', 'fd00:100:65::/108'])
    assert cidrs == {'a': ['100.64.0.0/24', 'fd00:100:64::/64'], 'b': ['100.64.1.0/24', 'fd00:100:64:1::/64']}
    routes = static_routes(cidrs, {'a': ['198.18.0.1', '2001:2::1'], 'b': ['2001:2::2', '198.18.0.2']}, 'a')
    assert routes == [
        {'dest': '100.64.1.0/24', 'via': '198.18.0.2', 'node': 'b'},
        {'dest': 'fd00:100:64:1::/64', 'via': '2001:2::2', 'node': 'b'},
    ]


def test_existing_passes_through_the_filter():
    first = pod_cidrs(['a', 'b'], cluster_cidr='100.64.0.0/24', node_prefix=26)
    second = pod_cidrs(['b', 'c'], cluster_cidr='100.64.0.0/24', node_prefix=26, existing=first)
    assert second == {'b': first['b'], 'c': first['a']}


@pytest.mark.parametrize(('kwargs', 'words'), [
    ({'node_prefix': 24}, ['pod_cidrs: cluster_cidr is required']),
    ({'cluster_cidr': '100.64.0.0/16'}, ['pod_cidrs: node_prefix is required']),
    ({'cluster_cidr': '100.64.0.1/16', 'node_prefix': 24}, ["pod_cidrs: cluster_cidr = '100.64.0.1/16' has host bits set"]),
    ({'cluster_cidr': '100.64.0.0/24', 'node_prefix': 26, 'existing': {'a': '100.64.1.0/26'}}, ["existing['a']", 'outside']),
    ({'cluster_cidr': '100.64.0.0/26', 'node_prefix': 26}, ['room for 1 nodes', '2 nodes were asked for', 'use node_prefix 27']),
])
def test_pod_cidrs_errors_are_filter_errors(kwargs, words):
    with pytest.raises(AnsibleFilterError) as info:
        pod_cidrs(['a', 'b'], **kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(('args', 'words'), [
    (({'a': '100.64.0.0/24'},), ['static_routes: node_ips is required']),
    (({'a': '100.64.0.0/24'}, {}), ['static_routes: self_name is required']),
    (({'a': '100.64.0.0/24'}, {}, 'b'), ["static_routes: node 'a' has a pod CIDR but no address in node_ips"]),
    (({'a': 'fd00::/64'}, {'a': '198.18.0.1'}, 'b'), ["node 'a'", 'no IPv6 address']),
    (('100.64.0.0/24', {}, 'b'), ['pod_cidr_map must be a mapping']),
    (({'a': '100.64.0.0/24'}, {'a': '198.18.5.1'}, 'b', {'host0': ['198.18.0.11/24']}),
     ["static_routes: node 'a' is routed via 198.18.5.1", 'not on a directly connected network', 'host0 198.18.0.0/24']),
])
def test_static_routes_errors_are_filter_errors(args, words):
    with pytest.raises(AnsibleFilterError) as info:
        static_routes(*args)
    for word in words:
        assert word in str(info.value)


# Anything YAML or Jinja can produce, nested.
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 300) | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(['100.64.0.0/16', '100.64.0.0/24', 'fd00:100:64::/48', '100.64.0.1/16', '198.18.0.1', '24', '/26', 'a', 'b']),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3) | st.sampled_from(['a', 'b']), children, max_size=3),
    max_leaves=8,
)


NAME = st.sampled_from(['a', 'b', 'n1', 'n2'])
V4_BLOCK = st.sampled_from(['100.64.0.0/26', '100.64.0.64/26', '100.64.1.0/26', '100.64.0.0/24'])
V6_BLOCK = st.sampled_from(['fd00:100:64::/64', 'fd00:100:64:1::/64', 'fd00:100:64::/63'])
BLOCK = st.one_of(V4_BLOCK, V6_BLOCK, st.lists(st.one_of(V4_BLOCK, V6_BLOCK), min_size=1, max_size=2))
IPS = st.one_of(st.sampled_from(['198.18.0.1', '198.18.0.2', '2001:2::1']), st.lists(st.sampled_from(['198.18.0.3', '2001:2::3']), max_size=2))


def plausible_or_junk(plausible):
    return st.one_of(plausible, plausible, JUNK)


@PROPERTY
@given(nodes=plausible_or_junk(st.lists(NAME)),
       cluster_cidr=plausible_or_junk(st.sampled_from(['100.64.0.0/24', ['100.64.0.0/24', 'fd00:100:64::/48'], ['fd00:100:64::/48', '100.64.0.0/24']])),
       node_prefix=plausible_or_junk(st.sampled_from([26, '26', [26, 64], [64, 26], 27])),
       service_cidr=plausible_or_junk(st.none() | st.sampled_from(['100.64.0.0/26', ['100.64.0.192/26', 'fd00:100:64::/64']])),
       existing=plausible_or_junk(st.none() | st.dictionaries(NAME, BLOCK | st.none(), max_size=3)))
def test_pod_cidrs_on_any_input_returns_a_map_or_raises_a_filter_error(nodes, cluster_cidr, node_prefix, service_cidr, existing):
    try:
        result = pod_cidrs(nodes, cluster_cidr=cluster_cidr, node_prefix=node_prefix, service_cidr=service_cidr, existing=existing)
    except AnsibleFilterError as exc:
        assert str(exc).startswith('pod_cidrs: ')
        event('rejected')
        return
    event('accepted')
    assert set(result) == set(nodes)
    for value in result.values():
        for cidr in value if isinstance(value, list) else [value]:
            ipaddress.ip_network(cidr)


CONNECTED = st.none() | st.sampled_from([
    {'host0': ['198.18.0.254/24', '2001:2::fe/64']},
    ['198.18.0.254/24', '2001:2::fe/64'],
    {'host0': ['198.18.0.254/30'], 'eth1': ['198.18.0.1/24']},
])


@PROPERTY
@given(pod_cidr_map=plausible_or_junk(st.dictionaries(NAME, BLOCK, max_size=4)),
       node_ips=plausible_or_junk(st.dictionaries(NAME, IPS, max_size=4)),
       self_name=plausible_or_junk(NAME),
       connected=plausible_or_junk(CONNECTED))
def test_static_routes_on_any_input_returns_routes_or_raises_a_filter_error(pod_cidr_map, node_ips, self_name, connected):
    try:
        routes = static_routes(pod_cidr_map, node_ips, self_name, connected)
    except AnsibleFilterError as exc:
        assert str(exc).startswith('static_routes: ')
        event('rejected')
        return
    event('accepted with routes' if routes else 'accepted')
    for route in routes:
        assert set(route) == ({'dest', 'via', 'node', 'dev'} if isinstance(connected, dict) else {'dest', 'via', 'node'})
        assert ipaddress.ip_network(route['dest']).version == ipaddress.ip_address(route['via']).version
        assert route['node'] != self_name


@PROPERTY
@given(names=st.lists(st.sampled_from([f'n{i}' for i in range(40)]), unique=True, max_size=40), data=st.data())
def test_filters_are_order_independent(names, data):
    kwargs = {'cluster_cidr': '100.64.0.0/18', 'node_prefix': 24, 'service_cidr': '100.64.32.0/20'}
    cidrs = pod_cidrs(names, **kwargs)
    assert cidrs == pod_cidrs(data.draw(st.permutations(names)), **kwargs)
    ips = {name: str(ipaddress.ip_address('198.18.0.0') + i + 1) for i, name in enumerate(names)}
    me = data.draw(st.sampled_from(names + ['outsider']))
    reordered = dict(data.draw(st.permutations(list(cidrs.items()))))
    assert static_routes(reordered, ips, me) == static_routes(cidrs, ips, me)
