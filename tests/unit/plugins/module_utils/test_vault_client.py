# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Tests for plugins/module_utils/_vault.py: error messages, login, and desired-vs-read-back comparison."""

from __future__ import annotations

import socket

import hvac.exceptions
import pytest
import requests.exceptions

from ansible_collections.hardway.kubernetes.plugins.module_utils import _vault as vault
from ansible_collections.hardway.kubernetes.plugins.module_utils._vault import VaultClient, VaultError

URL = 'https://vault.lab.internal:8200'
SIGN = f'{URL}/v1/k8s-pki-etcd/sign/etcd-main-server'


def _hvac_error(cls, errors, method='post', url=SIGN):
    return cls(errors=errors, method=method, url=url)


# --------------------------------------------------------------------------
# describe_error
# --------------------------------------------------------------------------

def test_unreachable_names_address_action_and_cause():
    exc = requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='vault.lab.internal', port=8200): Max retries exceeded with url: /v1/x "
        "(Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object>: Failed to establish a new connection: "
        "[Errno 111] Connection refused'))")
    message = vault.describe_error(exc, URL, 'signing the CSR')
    assert message.startswith(f'Cannot reach Vault at {URL} while signing the CSR: [Errno 111] Connection refused.')
    assert 'VAULT_ADDR' in message


def test_tls_and_timeout_errors_say_what_to_set():
    tls = vault.describe_error(requests.exceptions.SSLError('certificate verify failed: unable to get local issuer'), URL, 'x')
    assert tls.startswith(f'TLS error talking to Vault at {URL}') and 'ca_cert (or VAULT_CACERT)' in tls
    slow = vault.describe_error(requests.exceptions.ReadTimeout('read timed out'), URL, 'x', timeout=7)
    assert 'did not answer within 7s' in slow


@pytest.mark.parametrize('token_valid, policies, expected', [
    (None, None, "Permission denied by Vault at https://vault.lab.internal:8200 for POST 'k8s-pki-etcd/sign/etcd-main-server' "
                 'while signing: the token is not valid or its policies do not allow this path (Vault said: permission denied).'),
    (False, None, "Vault at https://vault.lab.internal:8200 refused the token for POST 'k8s-pki-etcd/sign/etcd-main-server' "
                  'while signing: the token is wrong, expired or revoked.'),
    (True, ['default', 'k8s-pki-reader'], "Permission denied by Vault at https://vault.lab.internal:8200 for POST "
                                          "'k8s-pki-etcd/sign/etcd-main-server' while signing: the token's policies "
                                          '(default, k8s-pki-reader) do not allow this path.'),
])
def test_permission_denied_names_the_path(token_valid, policies, expected):
    exc = _hvac_error(hvac.exceptions.Forbidden, ['permission denied'])
    assert vault.describe_error(exc, URL, 'signing', token_valid=token_valid, policies=policies).startswith(expected)


def test_vault_answers_are_mapped_by_kind():
    missing = vault.describe_error(_hvac_error(hvac.exceptions.InvalidPath, ['no handler for route "k8s-pki-etcd/sign/x"']),
                                   URL, 'signing')
    assert "has nothing at 'k8s-pki-etcd/sign/etcd-main-server'" in missing and 'mount is enabled' in missing
    rejected = vault.describe_error(_hvac_error(hvac.exceptions.InvalidRequest, ['subject alternate name etcd-9 not allowed by this role']),
                                    URL, 'signing')
    assert rejected == (f"Vault at {URL} rejected POST 'k8s-pki-etcd/sign/etcd-main-server' while signing: "
                        'subject alternate name etcd-9 not allowed by this role')
    sealed = vault.describe_error(_hvac_error(hvac.exceptions.VaultDown, ['Vault is sealed'], 'get'), URL, 'reading')
    assert 'is sealed or in standby' in sealed
    other = vault.describe_error(_hvac_error(hvac.exceptions.InternalServerError, ['boom'], 'get'), URL, 'reading')
    assert other == f"Vault at {URL} failed GET 'k8s-pki-etcd/sign/etcd-main-server' while reading: InternalServerError: boom"
    assert vault.describe_error(ValueError('odd'), URL, 'reading') == f'reading against Vault at {URL} failed: ValueError: odd'


def test_real_connection_refused_is_reported_with_the_address():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    url = f'http://127.0.0.1:{port}'
    client = VaultClient({'url': url, 'token': 'not-used', 'timeout': 5})
    with pytest.raises(VaultError, match=rf'^Cannot reach Vault at {url} while reading .k8s-pki-etcd/cert/ca.: .*Connection refused'):
        client.read('k8s-pki-etcd/cert/ca')


# --------------------------------------------------------------------------
# VaultClient with a stand-in hvac client
# --------------------------------------------------------------------------

class FakeHvac:
    """Records calls; raise_on maps a method name to the exception it raises."""

    def __init__(self, raise_on=None, lookup_policies=None, **kwargs):
        self.kwargs, self.token, self.calls = kwargs, None, []
        self.raise_on = raise_on or {}
        self.lookup_policies = lookup_policies
        fake = self

        class Token:
            def lookup_self(self):
                fake.calls.append(('lookup_self',))
                if fake.lookup_policies is None:
                    raise _hvac_error(hvac.exceptions.Forbidden, ['permission denied'], 'get', f'{URL}/v1/auth/token/lookup-self')
                return {'data': {'policies': fake.lookup_policies}}

        class AppRole:
            def login(self, role_id, secret_id, mount_point):
                fake.calls.append(('approle', role_id, secret_id, mount_point))
                fake.token = 's.approle'

        class Auth:
            token = Token()
            approle = AppRole()

        self.auth = Auth()

    def _maybe_raise(self, name):
        if name in self.raise_on:
            raise self.raise_on[name]

    def read(self, path):
        self.calls.append(('read', path))
        self._maybe_raise('read')
        return None if path.endswith('missing') else {'data': {'path': path}}

    def write_data(self, path, data):
        self.calls.append(('write', path, data))
        self._maybe_raise('write')
        return {'data': {'ok': True}}


def _client(params, **fake_kwargs):
    made = []

    def factory(**kwargs):
        made.append(FakeHvac(**fake_kwargs, **kwargs))
        return made[-1]

    return VaultClient(params, client_factory=factory), made


def test_client_needs_an_address_and_credentials():
    with pytest.raises(VaultError, match='No Vault address: set the url option'):
        VaultClient({'url': ''}, client_factory=FakeHvac)
    client, dummy = _client({'url': URL})
    with pytest.raises(VaultError, match='No Vault token'):
        client.read('x')
    client, dummy = _client({'url': URL, 'auth_method': 'approle', 'role_id': 'r'})
    with pytest.raises(VaultError, match='auth_method=approle needs role_id and secret_id'):
        client.read('x')


def test_client_options_reach_hvac():
    dummy, made = _client({'url': URL + '/', 'token': 't', 'ca_cert': '/etc/ssl/vault-ca.pem', 'timeout': 9, 'namespace': 'ns1'})
    assert made[0].kwargs == {'url': URL, 'verify': '/etc/ssl/vault-ca.pem', 'timeout': 9, 'namespace': 'ns1'}
    dummy, made = _client({'url': URL, 'token': 't', 'validate_certs': False, 'ca_cert': '/x'})
    assert made[0].kwargs['verify'] is False


def test_token_and_approle_login():
    client, made = _client({'url': URL, 'token': 's.token'})
    assert client.read('k8s-pki-etcd/cert/ca') == {'path': 'k8s-pki-etcd/cert/ca'}
    assert made[0].token == 's.token'
    assert client.read('k8s-pki-etcd/roles/missing') is None
    client, made = _client({'url': URL, 'auth_method': 'approle', 'role_id': 'rid', 'secret_id': 'sid', 'approle_mount': 'ci'})
    client.read('a')
    client.read('b')
    assert [c for c in made[0].calls if c[0] == 'approle'] == [('approle', 'rid', 'sid', 'ci')]  # once for both reads


def test_forbidden_tells_bad_token_from_narrow_policy():
    forbidden = _hvac_error(hvac.exceptions.Forbidden, ['permission denied'])
    client, dummy = _client({'url': URL, 'token': 'bad'}, raise_on={'write': forbidden})
    with pytest.raises(VaultError, match='refused the token .* wrong, expired or revoked'):
        client.write('k8s-pki-etcd/sign/etcd-main-server', {'csr': 'x'}, action='signing')
    client, dummy = _client({'url': URL, 'token': 'narrow'}, raise_on={'write': forbidden}, lookup_policies=['default'])
    with pytest.raises(VaultError, match=r"token's policies \(default\) do not allow this path"):
        client.write('k8s-pki-etcd/sign/etcd-main-server', {'csr': 'x'}, action='signing')


def test_argument_spec_marks_secrets_no_log_and_reads_the_environment():
    spec = vault.vault_argument_spec()
    assert {name for name, option in spec.items() if option.get('no_log')} == {'token', 'secret_id'}
    assert spec['url']['fallback'][1] == ['VAULT_ADDR']
    assert spec['token']['fallback'][1] == ['VAULT_TOKEN']
    assert spec['ca_cert']['fallback'][1] == ['VAULT_CACERT']


# --------------------------------------------------------------------------
# desired vs read back
# --------------------------------------------------------------------------

@pytest.mark.parametrize('want, have', [
    ('72h', 259200), (259200, '72h'), ('1h', '60m'), (True, True), (['a', 'b'], ['a', 'b']), ('a,b', ['a', 'b']),
    ([], None), ('path "x" {}\n', 'path "x" {}'), ({'max_lease_ttl': '1h'}, {'max_lease_ttl': 3600, 'other': 1}),
    (['72h'], [259200]),
])
def test_values_equal(want, have):
    assert vault.values_equal(want, have)


@pytest.mark.parametrize('want, have', [
    ('72h', 3600), (True, False), (True, 'true'), (1, True), (['a', 'b'], ['b', 'a']), (['a'], ['a', 'b']),
    ('rsa', 'ec'), ({'a': 1}, {'a': 2}), ({'a': 1}, None), ('0', False),
])
def test_values_differ(want, have):
    assert not vault.values_equal(want, have)


def test_config_differences_only_looks_at_declared_keys():
    read_back = {'ttl': 259200, 'allowed_domains': ['etcd-1'], 'allow_bare_domains': True, 'key_bits': 2048}
    assert vault.config_differences({'ttl': '72h', 'allowed_domains': ['etcd-1'], 'allow_bare_domains': True}, read_back) == []
    assert vault.config_differences({'ttl': '24h', 'allowed_domains': ['etcd-1', 'etcd-2'], 'organization': []}, read_back) == [
        'allowed_domains', 'organization', 'ttl']
    assert vault.config_differences({'ttl': '72h'}, None) == ['ttl']
