# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Tests for the cert_sans filter, called the way Ansible finds it."""

from __future__ import annotations

import ipaddress

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hardway.kubernetes.plugins.filter import cert_sans as cert_sans_plugin

cert_sans = cert_sans_plugin.FilterModule().filters()['cert_sans']

KUBERNETES = ['DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local']


def test_plugin_file_exposes_exactly_its_filter():
    assert set(cert_sans_plugin.FilterModule().filters()) == {'cert_sans'}


def test_etcd_server_sans():
    assert cert_sans(['hostnames', 'host_ips', 'localhost'], hostnames=['etcd-1'], host_ips=['198.18.0.11']) == [
        'DNS:etcd-1', 'DNS:localhost', 'IP:198.18.0.11', 'IP:127.0.0.1']


def test_apiserver_serving_sans_in_source_order_dns_first():
    result = cert_sans(['hostnames', 'host_ips', 'lb', 'service_ip', 'kubernetes', 'localhost'],
                       hostnames=['api-1'], host_ips=['198.18.0.21'], lb=['198.18.0.100', 'API.lab.internal'],
                       service_cidr='100.64.128.0/17')
    assert result == (['DNS:api-1', 'DNS:api.lab.internal'] + KUBERNETES + ['DNS:localhost']
                      + ['IP:198.18.0.21', 'IP:198.18.0.100', 'IP:100.64.128.1', 'IP:127.0.0.1'])


def test_first_service_ip_of_primary_range_and_cluster_domain():
    assert cert_sans(['service_ip'], service_cidr='100.64.128.0/17,fd00:10::/108') == ['IP:100.64.128.1']
    assert cert_sans(['service_ip'], service_cidr=['fd00:10::/108', '100.64.128.0/17']) == ['IP:fd00:10::1']
    assert cert_sans(['kubernetes'], cluster_domain='lab.internal.')[-1] == 'DNS:kubernetes.default.svc.lab.internal'


def test_duplicates_and_empty_facts_are_dropped():
    result = cert_sans(['hostnames', 'host_ips', 'localhost', 'extra'], hostnames=['etcd-1', '', None, 'ETCD-1'],
                       host_ips=['198.18.0.11', '', '198.18.0.11'], extra=['localhost', 'IP:127.0.0.1', 'etcd-1.lab.internal'])
    assert result == ['DNS:etcd-1', 'DNS:localhost', 'DNS:etcd-1.lab.internal', 'IP:198.18.0.11', 'IP:127.0.0.1']


def test_no_sources_no_sans():
    assert cert_sans([]) == []


@pytest.mark.parametrize('sources, kwargs, message', [
    (['hostname'], {}, "unknown SAN source 'hostname'; valid sources are hostnames, host_ips"),
    (['hostnames'], {'hostnames': ['', None]}, "source 'hostnames' needs hostnames="),
    (['hostnames'], {'hostnames': ['198.18.0.11']}, 'is an IP address; pass it in host_ips'),
    (['host_ips'], {'host_ips': []}, "source 'host_ips' needs host_ips="),
    (['host_ips'], {'host_ips': ['etcd-1']}, "host_ips: 'IP:etcd-1' is not an IP address"),
    (['lb'], {}, "source 'lb' needs lb="),
    (['service_ip'], {}, "source 'service_ip' needs service_cidr="),
    (['service_ip'], {'service_cidr': '100.64.128.1/17'}, 'service_cidr: .* is not a network in CIDR notation'),
    (['service_ip'], {'service_cidr': '100.64.128.0/31'}, 'too small'),
    (['kubernetes'], {'cluster_domain': 'bad domain'}, "cluster_domain 'bad domain' is not a DNS domain"),
    (['extra'], {'extra': ['DNS:not_valid']}, "extra: 'DNS:not_valid' is not a valid DNS name"),
])
def test_bad_input_is_named(sources, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        cert_sans(sources, **kwargs)


def test_input_must_be_a_list():
    with pytest.raises(AnsibleFilterError, match='must be a list of SAN sources'):
        cert_sans({'hostnames': True})


names = st.from_regex(r'[a-z][a-z0-9-]{0,10}[a-z0-9]', fullmatch=True)
ips = st.ip_addresses(v=4).map(str)


@settings(max_examples=100, deadline=None)
@given(st.lists(names, max_size=5), st.lists(ips, max_size=5), st.permutations(['hostnames', 'host_ips', 'localhost']))
def test_result_is_exactly_the_deduplicated_inputs(hostnames, host_ips, sources):
    hostnames, host_ips = hostnames + ['etcd-1'], host_ips + ['198.18.0.11']
    result = cert_sans(sources, hostnames=hostnames, host_ips=host_ips)
    assert len(result) == len(set(result))
    dns = [e[4:] for e in result if e.startswith('DNS:')]
    addresses = [e[3:] for e in result if e.startswith('IP:')]
    assert result == [f'DNS:{d}' for d in dns] + [f'IP:{a}' for a in addresses]
    assert set(dns) == set(hostnames) | {'localhost'}
    assert {ipaddress.ip_address(a) for a in addresses} == {ipaddress.ip_address(a) for a in host_ips + ['127.0.0.1']}
