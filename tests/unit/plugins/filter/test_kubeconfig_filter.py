# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Tests for the kubeconfig filter, called the way Ansible finds it."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hardway.kubernetes.plugins.filter import kubeconfig as plugin

kubeconfig = plugin.FilterModule().filters()['kubeconfig']
PKI = '/etc/kubernetes/pki'


def test_plugin_file_exposes_exactly_its_filter():
    assert set(plugin.FilterModule().filters()) == {'kubeconfig'}


def test_references_every_certificate_by_path():
    config = kubeconfig('https://198.18.0.20:6443', f'{PKI}/ca.crt', f'{PKI}/scheduler.crt', f'{PKI}/scheduler.key',
                        user='system:kube-scheduler')
    assert config['clusters'] == [{'name': 'kubernetes', 'cluster': {'server': 'https://198.18.0.20:6443',
                                                                     'certificate-authority': f'{PKI}/ca.crt'}}]
    assert config['users'] == [{'name': 'system:kube-scheduler',
                                'user': {'client-certificate': f'{PKI}/scheduler.crt', 'client-key': f'{PKI}/scheduler.key'}}]
    assert config['current-context'] == 'system:kube-scheduler@kubernetes'
    assert config['contexts'] == [{'name': 'system:kube-scheduler@kubernetes',
                                   'context': {'cluster': 'kubernetes', 'user': 'system:kube-scheduler'}}]
    flat = repr(config)
    assert '-data' not in flat  # nothing embedded


def test_namespace_and_cluster_name():
    config = kubeconfig('https://api.example.test:6443', '/a/ca.crt', '/a/c.crt', '/a/c.key', cluster='prod', namespace='kube-system')
    assert config['contexts'][0] == {'name': 'default@prod', 'context': {'cluster': 'prod', 'user': 'default', 'namespace': 'kube-system'}}


@pytest.mark.parametrize('server', ['http://198.18.0.20:6443', '198.18.0.20:6443', '', None, 'https://:6443'])
def test_server_must_be_an_https_url(server):
    with pytest.raises(AnsibleFilterError, match='server must be an https:// URL'):
        kubeconfig(server, '/a/ca.crt', '/a/c.crt', '/a/c.key')


@pytest.mark.parametrize('option,args', [
    ('ca_file', ('pki/ca.crt', '/a/c.crt', '/a/c.key')),
    ('cert_file', ('/a/ca.crt', '/a/../c.crt', '/a/c.key')),
    ('key_file', ('/a/ca.crt', '/a/c.crt', '')),
])
def test_paths_must_be_absolute(option, args):
    with pytest.raises(AnsibleFilterError, match=f'{option} must be an absolute'):
        kubeconfig('https://198.18.0.20:6443', *args)


def test_user_must_not_be_empty():
    with pytest.raises(AnsibleFilterError, match='user must be a non-empty name'):
        kubeconfig('https://198.18.0.20:6443', '/a/ca.crt', '/a/c.crt', '/a/c.key', user=' ')
