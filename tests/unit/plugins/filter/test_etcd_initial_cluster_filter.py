# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Tests for the etcd_initial_cluster filter, called the way Ansible finds it."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hardway.kubernetes.plugins.filter import etcd_initial_cluster as plugin

etcd_initial_cluster = plugin.FilterModule().filters()['etcd_initial_cluster']


def test_plugin_file_exposes_exactly_its_filter():
    assert set(plugin.FilterModule().filters()) == {'etcd_initial_cluster'}


def test_sorted_by_name_whatever_the_input_order():
    members = {'etcd-3': '198.18.0.13', 'etcd-1': '198.18.0.11', 'etcd-2': '198.18.0.12'}
    assert etcd_initial_cluster(members) == (
        'etcd-1=https://198.18.0.11:2380,etcd-2=https://198.18.0.12:2380,etcd-3=https://198.18.0.13:2380')


def test_list_input_port_scheme_ipv6_and_names():
    members = [{'name': 'ev-b', 'address': 'fd00::0:12'}, {'name': 'ev-a', 'address': 'Ev-A.lab.internal'}]
    assert etcd_initial_cluster(members, port=2382) == 'ev-a=https://ev-a.lab.internal:2382,ev-b=https://[fd00::12]:2382'
    assert etcd_initial_cluster({'a': '127.0.0.1'}, 12380, 'http') == 'a=http://127.0.0.1:12380'


@pytest.mark.parametrize('members, kwargs, message', [
    ({}, {}, 'no members; is the inventory group empty'),
    ({'etcd 1': '198.18.0.11'}, {}, "member name 'etcd 1' may only hold"),
    ([{'name': 'a', 'address': '198.18.0.1'}, {'name': 'a', 'address': '198.18.0.2'}], {}, "'a' appears twice"),
    ({'a': '198.18.0.1', 'b': '198.18.0.1'}, {}, "members 'a' and 'b' share the peer URL https://198.18.0.1:2380"),
    ({'a': ''}, {}, "member 'a' has address '', which is neither an IP address nor a DNS name"),
    ({'a': '198.18.0.1/24'}, {}, "member 'a' has address '198.18.0.1/24'"),
    ({'a': '198.18.0.1'}, {'port': 0}, 'port must be a TCP port number'),
    ({'a': '198.18.0.1'}, {'port': 'x'}, 'port must be a TCP port number'),
    ({'a': '198.18.0.1'}, {'scheme': 'unix'}, "scheme 'unix' must be 'https' or 'http'"),
    ([['a', '198.18.0.1']], {}, "list items need 'name' and 'address'"),
    ('a=https://x:2380', {}, 'the input must map member names to addresses'),
])
def test_bad_input_is_named(members, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        etcd_initial_cluster(members, **kwargs)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.from_regex(r'[a-z][a-z0-9-]{0,8}', fullmatch=True), st.integers(1, 254), min_size=1, max_size=7)
       .filter(lambda d: len(set(d.values())) == len(d)),
       st.randoms())
def test_same_string_for_every_order_and_every_member_once(members, rnd):
    addresses = {name: f'198.18.0.{octet}' for name, octet in members.items()}
    items = list(addresses.items())
    rnd.shuffle(items)
    result = etcd_initial_cluster(dict(items))
    assert result == etcd_initial_cluster(addresses)
    parts = result.split(',')
    assert [p.split('=', 1)[0] for p in parts] == sorted(addresses)
    assert {p.split('=', 1)[1] for p in parts} == {f'https://{a}:2380' for a in addresses.values()}
