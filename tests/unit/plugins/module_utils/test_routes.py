# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Tests for the static route table builder (plugins/module_utils/_routes.py)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hardway.kubernetes.plugins.module_utils._pod_cidr import PodCidrError, allocate_pod_cidrs
from ansible_collections.hardway.kubernetes.plugins.module_utils._routes import static_routes

PROPERTY = settings(max_examples=100, deadline=None)

HOSTS_V4 = ipaddress.ip_network('198.18.0.0/15')
HOSTS_V6 = ipaddress.ip_network('2001:2::/48')  # the IPv6 benchmarking range, RFC 5180


def host_ips(names, dual=False):
    """node -> its address (dual-stack: a list of IPv4 and IPv6), numbered in list order."""
    result = {}
    for number, name in enumerate(names, start=2):
        v4 = str(HOSTS_V4.network_address + number)
        result[name] = [v4, str(HOSTS_V6.network_address + number)] if dual else v4
    return result


# --- examples ----------------------------------------------------------------

def test_one_route_per_other_node_via_its_ip():
    pod_cidrs = {'n1': '100.64.0.0/24', 'n2': '100.64.1.0/24', 'n3': '100.64.2.0/24'}
    routes = static_routes(pod_cidrs, {'n1': '198.18.0.11', 'n2': '198.18.0.12', 'n3': '198.18.0.13'}, 'n2')
    assert routes == [
        {'dest': '100.64.0.0/24', 'via': '198.18.0.11', 'node': 'n1'},
        {'dest': '100.64.2.0/24', 'via': '198.18.0.13', 'node': 'n3'},
    ]


def test_sorted_by_address_not_by_text_or_name():
    pod_cidrs = {'a': '100.64.10.0/24', 'b': '100.64.9.0/24', 'c': '100.64.100.0/24'}
    routes = static_routes(pod_cidrs, {'a': '198.18.0.1', 'b': '198.18.0.2', 'c': '198.18.0.3'}, 'me')
    assert [route['dest'] for route in routes] == ['100.64.9.0/24', '100.64.10.0/24', '100.64.100.0/24']


def test_dual_stack_route_per_family_ipv4_first():
    pod_cidrs = {'n1': ['fd00:100:64::/64', '100.64.0.0/24'], 'n2': ['100.64.1.0/24', 'fd00:100:64:1::/64']}
    routes = static_routes(pod_cidrs, {'n1': ['2001:2::1', '198.18.0.1'], 'n2': ['198.18.0.2', '2001:2::2']}, 'n3')
    assert routes == [
        {'dest': '100.64.0.0/24', 'via': '198.18.0.1', 'node': 'n1'},
        {'dest': '100.64.1.0/24', 'via': '198.18.0.2', 'node': 'n2'},
        {'dest': 'fd00:100:64::/64', 'via': '2001:2::1', 'node': 'n1'},
        {'dest': 'fd00:100:64:1::/64', 'via': '2001:2::2', 'node': 'n2'},
    ]


def test_outputs_are_canonical():
    routes = static_routes({'a': 'FD00:100:64:0::/64', 'b': '100.64.1.0/255.255.255.0'}, {'a': '2001:0002::0001', 'b': ' 198.18.0.2'}, 'x')
    assert routes == [
        {'dest': '100.64.1.0/24', 'via': '198.18.0.2', 'node': 'b'},
        {'dest': 'fd00:100:64::/64', 'via': '2001:2::1', 'node': 'a'},
    ]


def test_self_needs_no_ip_and_extra_ips_are_ignored():
    routes = static_routes({'me': '100.64.0.0/24', 'other': '100.64.1.0/24'}, {'other': '198.18.0.2', 'stranger': 'junk'}, 'me')
    assert routes == [{'dest': '100.64.1.0/24', 'via': '198.18.0.2', 'node': 'other'}]


def test_single_node_and_empty_map():
    assert not static_routes({'me': '100.64.0.0/24'}, {}, 'me')
    assert not static_routes({}, {}, 'me')


# --- errors name the input -----------------------------------------------------

GOOD_MAP = {'n1': '100.64.0.0/24', 'n2': '100.64.1.0/24'}
GOOD_IPS = {'n1': '198.18.0.1', 'n2': '198.18.0.2'}


@pytest.mark.parametrize(('pod_cidrs', 'node_ips', 'self_name', 'words'), [
    (GOOD_MAP, {'n1': '198.18.0.1'}, 'n1', ["node 'n2'", 'no address in node_ips', "node_ips['n2']"]),
    (GOOD_MAP, {'n2': '198.18.0.2'}, 'n2', ["node 'n1'", "node_ips['n1']"]),
    ({'n1': '100.64.0.0/24', 'n2': ['100.64.1.0/24', 'fd00::/64']}, GOOD_IPS, 'n1', ["node 'n2'", "'fd00::/64'", 'IPv6', "node_ips['n2']"]),
    ({'n1': '100.64.0.0/24', 'n2': 'fd00::/64'}, GOOD_IPS, 'n1', ["node 'n2'", 'no IPv6 address']),
    (GOOD_MAP, {'n2': '198.18.0.2/24'}, 'n1', ["node_ips['n2'] = '198.18.0.2/24'", 'not an IP address']),
    (GOOD_MAP, {'n2': ['198.18.0.2', '198.18.0.3']}, 'n1', ["node_ips['n2']", 'more than one IPv4']),
    (GOOD_MAP, {'n2': ['198.18.0.2', 5]}, 'n1', ["node_ips['n2'][1] must be an IP address string", 'int']),
    (GOOD_MAP, {'n2': []}, 'n1', ["node_ips['n2'] must be", '[]']),
    (GOOD_MAP, {'n2': None}, 'n1', ["node_ips['n2'] must be", 'None']),
    ({'n1': '100.64.0.0/24', 'n2': '100.64.0.128/25'}, GOOD_IPS, 'n1',
     ["pod_cidr_map['n1'] '100.64.0.0/24'", "pod_cidr_map['n2'] '100.64.0.128/25'", 'overlap']),
    ({'n1': '100.64.0.0/24', 'n2': '100.64.0.255/32'}, GOOD_IPS, 'n1', ["'n1'", "'n2'", 'overlap']),
    ({'n1': '100.64.0.0/23', 'n2': '100.64.2.0/24', 'n3': '100.64.1.0/24'}, dict(GOOD_IPS, n3='198.18.0.3'), 'n2', ["'n1'", "'n3'", 'overlap']),
    ({'n1': '100.64.0.0/24', 'n2': '100.64.0.1/24'}, GOOD_IPS, 'n1', ["pod_cidr_map['n2'] = '100.64.0.1/24'", 'host bits']),
    ({'n1': '100.64.0.0/24', 'n2': ['100.64.1.0/24', '100.64.2.0/24']}, GOOD_IPS, 'n1', ["pod_cidr_map['n2']", 'same family']),
    ({'n1': '100.64.0.0/24', 'n2': None}, GOOD_IPS, 'n1', ["pod_cidr_map['n2'] must be", 'None']),
    ({'n1': '100.64.0.0/24', 'n2': ['x']}, GOOD_IPS, 'n1', ["pod_cidr_map['n2'][0] = 'x'"]),
    ({1: '100.64.0.0/24'}, GOOD_IPS, 'n1', ['pod_cidr_map', 'key 1']),
    (['100.64.0.0/24'], GOOD_IPS, 'n1', ['pod_cidr_map must be a mapping']),
    (GOOD_MAP, ['198.18.0.1'], 'n1', ['node_ips must be a mapping']),
    (GOOD_MAP, GOOD_IPS, '', ['self_name', 'inventory_hostname']),
    (GOOD_MAP, GOOD_IPS, ['n1'], ['self_name', "['n1']"]),
    (GOOD_MAP, {'n2': '100.64.0.7'}, 'n1', ["node 'n2' is routed via 100.64.0.7", "inside pod_cidr_map['n1'] '100.64.0.0/24'", 'must not overlap']),
    (GOOD_MAP, {'n1': '100.64.1.255'}, 'n2', ["node 'n1' is routed via 100.64.1.255", "inside pod_cidr_map['n2']"]),
    ({'n1': 'fd00::/64', 'n2': 'fd00:0:0:1::/64'}, {'n1': 'fd00:0:0:1::1'}, 'n2', ["node 'n1'", "inside pod_cidr_map['n2'] 'fd00:0:0:1::/64'"]),
])
def test_bad_input_is_named(pod_cidrs, node_ips, self_name, words):
    with pytest.raises(PodCidrError) as info:
        static_routes(pod_cidrs, node_ips, self_name)
    for word in words:
        assert word in str(info.value)


# --- properties ----------------------------------------------------------------

NAMES = st.lists(st.sampled_from([f'node-{i}' for i in range(60)] + ['a', 'b', 'c']), unique=True, min_size=1, max_size=40)


@PROPERTY
@given(names=NAMES, dual=st.booleans(), data=st.data())
def test_routes_cover_every_other_node_exactly_once(names, dual, data):
    cluster, prefix = (['100.64.0.0/16', 'fd00:100:64::/48'], [24, 64]) if dual else ('100.64.0.0/16', 24)
    pod_cidrs = allocate_pod_cidrs(names, cluster, prefix)
    ips = host_ips(names, dual)
    me = data.draw(st.sampled_from(names + ['not-a-node']))
    shuffled = dict(data.draw(st.permutations(list(pod_cidrs.items()))))
    routes = static_routes(shuffled, ips, me)

    assert routes == static_routes(pod_cidrs, ips, me)
    others = [name for name in names if name != me]
    assert len(routes) == len(others) * (2 if dual else 1)
    expected = set()
    for name in others:
        cidrs = pod_cidrs[name] if dual else [pod_cidrs[name]]
        addresses = ips[name] if dual else [ips[name]]
        for cidr in cidrs:
            via = [address for address in addresses if ipaddress.ip_address(address).version == ipaddress.ip_network(cidr).version]
            expected.add((cidr, via[0], name))
    assert {(route['dest'], route['via'], route['node']) for route in routes} == expected
    keys = [(ipaddress.ip_network(route['dest']).version, ipaddress.ip_network(route['dest']).network_address) for route in routes]
    assert keys == sorted(keys)


@PROPERTY
@given(names=st.lists(st.sampled_from([f'n{i}' for i in range(30)]), unique=True, min_size=2, max_size=30), data=st.data())
def test_any_overlap_is_found_and_named(names, data):
    pod_cidrs = allocate_pod_cidrs(names, '100.64.0.0/16', 24)
    victim, other = data.draw(st.permutations(names))[:2]
    inside = ipaddress.ip_network(pod_cidrs[other])
    pod_cidrs[victim] = str(data.draw(st.sampled_from([inside, inside.supernet(data.draw(st.integers(1, 8)))] + list(inside.subnets(2)))))
    with pytest.raises(PodCidrError) as info:
        static_routes(pod_cidrs, host_ips(names), data.draw(st.sampled_from(names)))
    assert f'pod_cidr_map[{victim!r}]' in str(info.value) and 'overlap' in str(info.value)


@PROPERTY
@given(names=st.lists(st.sampled_from([f'n{i}' for i in range(30)]), unique=True, min_size=2, max_size=30), data=st.data())
def test_a_node_without_next_hop_is_named(names, data):
    pod_cidrs = allocate_pod_cidrs(names, ['100.64.0.0/16', 'fd00:100:64::/48'], [24, 64])
    me, victim = data.draw(st.permutations(names))[:2]
    ips = host_ips(names, dual=True)
    family = data.draw(st.sampled_from([None, 0, 1]))
    if family is None:
        del ips[victim]
    else:
        del ips[victim][family]
    with pytest.raises(PodCidrError) as info:
        static_routes(pod_cidrs, ips, me)
    assert f'node {victim!r}' in str(info.value)


def test_fifty_thousand_nodes_one_route_table():
    # Functional check at scale; speed is measured by bench/pod_cidr_bench.py, not here.
    names = [f'node-{i}' for i in range(50000)]
    ips = host_ips(names)
    pod_cidrs = allocate_pod_cidrs(names, '100.64.0.0/10', 26, service_cidr='100.127.0.0/16')
    routes = static_routes(pod_cidrs, ips, 'node-0')
    assert len(routes) == 49999 and routes[-1] == {'dest': pod_cidrs['node-49999'], 'via': ips['node-49999'], 'node': 'node-49999'}


# --- connected: every next hop on a directly connected network -----------------

THREE = {'n1': '100.64.0.0/24', 'n2': '100.64.1.0/24', 'n3': '100.64.2.0/24'}
THREE_IPS = {'n1': '198.18.1.11', 'n2': '198.18.1.12', 'n3': '198.18.2.13'}


def test_connected_mapping_gives_each_route_its_interface():
    connected = {'lo': ['127.0.0.1/8'], 'host0': ['198.18.1.11/24'], 'eth1': ['198.18.2.11/255.255.255.0'], 'podbr0': ['100.64.0.1/24']}
    routes = static_routes(THREE, THREE_IPS, 'n1', connected=connected)
    assert routes == [
        {'dest': '100.64.1.0/24', 'via': '198.18.1.12', 'node': 'n2', 'dev': 'host0'},
        {'dest': '100.64.2.0/24', 'via': '198.18.2.13', 'node': 'n3', 'dev': 'eth1'},
    ]


def test_connected_list_checks_without_naming_interfaces():
    routes = static_routes(THREE, THREE_IPS, 'n1', connected=['198.18.1.11/24', '198.18.2.11/24'])
    assert routes == static_routes(THREE, THREE_IPS, 'n1')
    assert all('dev' not in route for route in routes)


def test_connected_longest_prefix_wins():
    connected = {'wide': ['198.18.0.1/15'], 'narrow': ['198.18.2.1/24'], 'other': ['198.18.1.1/24']}
    routes = static_routes(THREE, THREE_IPS, 'n1', connected=connected)
    assert [route['dev'] for route in routes] == ['other', 'narrow']


def test_connected_dual_stack_per_family():
    pod_cidrs = {'a': ['100.64.0.0/24', 'fd00:100:64::/64'], 'b': ['100.64.1.0/24', 'fd00:100:64:1::/64']}
    ips = {'a': ['198.18.1.11', '2001:2::11'], 'b': ['198.18.1.12', '2001:2:0:1::12']}
    connected = {'host0': ['198.18.1.11/24', '2001:2::11/64'], 'eth1': ['2001:2:0:1::11/64']}
    routes = static_routes(pod_cidrs, ips, 'a', connected=connected)
    assert [(route['via'], route['dev']) for route in routes] == [('198.18.1.12', 'host0'), ('2001:2:0:1::12', 'eth1')]


@pytest.mark.parametrize(('connected', 'words'), [
    ({'host0': ['198.18.1.11/24']}, ["node 'n3' is routed via 198.18.2.13", "directly connected network of host 'n1'",
                                     'its networks: host0 198.18.1.0/24', "node_ips['n3']"]),
    ({}, ["node 'n2' is routed via 198.18.1.12", 'its networks: none']),
    (['198.18.1.11/24'], ["node 'n3'", 'its networks: 198.18.1.0/24)']),
    # the same address family only: an IPv6 network never holds an IPv4 next hop
    ({'host0': ['::ffff:198.18.1.11/120', '198.18.2.11/24']}, ["node 'n2' is routed via 198.18.1.12"]),
    ({'host0': ['198.18.1.12/24', '198.18.2.11/24']}, ["node 'n2' is routed via 198.18.1.12", "address of host 'n1' itself (on host0)"]),
    ({'host0': '198.18.1.11'}, ["connected['host0'] = '198.18.1.11'", 'prefix length']),
    ({'host0': ['198.18.1.11/33']}, ["connected['host0'][0] = '198.18.1.11/33'"]),
    ({'host0': [None]}, ["connected['host0'][0] = None"]),
    ({'host0': None}, ["connected['host0'] must be", 'None']),
    ({5: ['198.18.1.11/24']}, ['connected has the key 5']),
    ('198.18.1.11/24', ['connected must map interface names', 'str']),
])
def test_connected_errors_name_node_hop_and_networks(connected, words):
    with pytest.raises(PodCidrError) as info:
        static_routes(THREE, THREE_IPS, 'n1', connected=connected)
    for word in words:
        assert word in str(info.value)


@PROPERTY
@given(names=st.lists(st.sampled_from([f'n{i}' for i in range(30)]), unique=True, min_size=2, max_size=30), data=st.data())
def test_connected_refuses_exactly_the_nodes_off_the_host_networks(names, data):
    pod_cidrs = allocate_pod_cidrs(names, '100.64.0.0/16', 24)
    me = data.draw(st.sampled_from(names))
    # Each node sits on one of four /26 networks of 198.18.1.0/24; the host has some of them.
    ips = {name: str(HOSTS_V4.network_address + 256 + 64 * data.draw(st.integers(0, 3)) + 2 + i) for i, name in enumerate(names)}
    mine = data.draw(st.sets(st.integers(0, 3)))
    connected = {f'if{n}': [f'198.18.1.{64 * n + 1}/26'] for n in sorted(mine)}
    off = sorted(name for name in names if name != me and (int(ipaddress.ip_address(ips[name])) >> 6) & 3 not in mine)
    if off:
        with pytest.raises(PodCidrError) as info:
            static_routes(pod_cidrs, ips, me, connected=connected)
        assert any(f'node {name!r} is routed via {ips[name]}' in str(info.value) for name in off)
    else:
        routes = static_routes(pod_cidrs, ips, me, connected=connected)
        assert [route['dev'] for route in routes] == [f"if{(int(ipaddress.ip_address(route['via'])) >> 6) & 3}" for route in routes]
