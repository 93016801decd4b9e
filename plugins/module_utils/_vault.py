# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Vault (and OpenBao) client setup shared by the collection's Vault modules and action plugins.

This is a private module_utils file of hardway.kubernetes: no stability
guarantees for other collections.

- vault_argument_spec(): the connection and auth options (address, token or
  AppRole, CA bundle), with the usual VAULT_* environment variables as
  fallbacks; secrets are no_log.
- VaultClient: a thin wrapper around hvac that logs in and turns every
  failure into a VaultError whose message names the Vault address, the path
  and the cause (unreachable, TLS, bad token, permission denied, ...).
- config_differences(): compare desired settings with what Vault reads back
  (durations, comma lists and ordering as Vault normalises them).
"""

from __future__ import annotations

import re

from ansible.module_utils.basic import env_fallback

from ansible_collections.hardway.kubernetes.plugins.module_utils._certs import CertError, parse_duration

try:
    import hvac
    import hvac.exceptions
    import requests.exceptions
except ImportError:  # pragma: no cover - reported by the callers
    HAS_HVAC = False
else:
    HAS_HVAC = True

HVAC_REQUIREMENT = 'the hvac Python library (pip install hvac) on the controller'


def vault_argument_spec():
    """Connection and authentication options common to all Vault modules of the collection."""
    return {
        'url': {'type': 'str', 'fallback': (env_fallback, ['VAULT_ADDR'])},
        'auth_method': {'type': 'str', 'default': 'token', 'choices': ['token', 'approle']},
        'token': {'type': 'str', 'no_log': True, 'fallback': (env_fallback, ['VAULT_TOKEN'])},
        'role_id': {'type': 'str', 'fallback': (env_fallback, ['VAULT_ROLE_ID'])},
        'secret_id': {'type': 'str', 'no_log': True, 'fallback': (env_fallback, ['VAULT_SECRET_ID'])},
        'approle_mount': {'type': 'str', 'default': 'approle'},
        'ca_cert': {'type': 'path', 'fallback': (env_fallback, ['VAULT_CACERT'])},
        'validate_certs': {'type': 'bool', 'default': True},
        'namespace': {'type': 'str', 'fallback': (env_fallback, ['VAULT_NAMESPACE'])},
        'timeout': {'type': 'int', 'default': 30},
    }


VAULT_OPTION_NAMES = tuple(vault_argument_spec())


class VaultError(Exception):
    """A Vault operation failed; str(exc) is a complete message for the user."""


_CAUSE = re.compile(r'(\[Errno -?\d+\][^\'")]*|Name or service not known|Connection refused|timed out|certificate verify failed[^\'")]*)')


def _root_cause(exc):
    text = str(exc)
    match = _CAUSE.search(text)
    return match.group(1).strip() if match else text


def _path_of(exc, url):
    target = getattr(exc, 'url', None) or ''
    marker = '/v1/'
    if marker in target:
        return target.split(marker, 1)[1].split('?', 1)[0]
    return target or '(unknown path)'


def describe_error(exc, url, action, timeout=None, token_valid=None, policies=None):
    """A message for exc that names the Vault address, what was being done, the path and the fix.

    For permission errors, token_valid/policies (from a lookup-self after the
    failure) tell a bad token apart from a token whose policies are too narrow.
    """
    where = f'Vault at {url}'
    if HAS_HVAC:
        if isinstance(exc, requests.exceptions.SSLError):
            return (f'TLS error talking to {where} while {action}: {_root_cause(exc)}. '
                    'Set ca_cert (or VAULT_CACERT) to the CA bundle that signed Vault\'s certificate.')
        if isinstance(exc, requests.exceptions.Timeout):
            return f'{where} did not answer within {timeout}s while {action}; check the address and raise timeout if Vault is slow.'
        if isinstance(exc, requests.exceptions.ConnectionError):
            return (f'Cannot reach {where} while {action}: {_root_cause(exc)}. '
                    'Check that Vault is running and that url (or VAULT_ADDR) is right.')
        if isinstance(exc, hvac.exceptions.VaultError):
            path = _path_of(exc, url)
            method = (getattr(exc, 'method', None) or '').upper()
            errors = '; '.join(getattr(exc, 'errors', None) or []) or str(exc.args[0] if exc.args else exc)
            if isinstance(exc, (hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized)):
                if token_valid is False:
                    return (f"{where} refused the token for {method} '{path}' while {action}: the token is wrong, expired or "
                            'revoked. Check token / VAULT_TOKEN, or the AppRole role_id and secret_id.')
                if token_valid:
                    return (f"Permission denied by {where} for {method} '{path}' while {action}: the token's policies "
                            f"({', '.join(policies or []) or 'none'}) do not allow this path.")
                return (f"Permission denied by {where} for {method} '{path}' while {action}: the token is not valid or its "
                        f'policies do not allow this path (Vault said: {errors}).')
            if isinstance(exc, hvac.exceptions.InvalidPath):
                return (f"{where} has nothing at '{path}' while {action} ({errors}); "
                        'check that the mount is enabled and that the names are right.')
            if isinstance(exc, hvac.exceptions.InvalidRequest):
                return f"{where} rejected {method} '{path}' while {action}: {errors}"
            if isinstance(exc, hvac.exceptions.VaultDown):
                return f'{where} is sealed or in standby ({errors}) while {action}; unseal it or use the active node.'
            if isinstance(exc, hvac.exceptions.VaultNotInitialized):
                return f'{where} is not initialised ({errors}); run `vault operator init` first.'
            return f"{where} failed {method} '{path}' while {action}: {type(exc).__name__}: {errors}"
    if isinstance(exc, CertError):
        return f'{action}: {exc}'
    return f'{action} against {where} failed: {type(exc).__name__}: {exc}'


class VaultClient:
    """hvac client from the vault_argument_spec() options; every call raises VaultError on failure."""

    def __init__(self, params, client_factory=None):
        if not HAS_HVAC and client_factory is None:
            raise VaultError(f'This needs {HVAC_REQUIREMENT}.')
        self.url = (params.get('url') or '').rstrip('/')
        if not self.url:
            raise VaultError('No Vault address: set the url option (or the VAULT_ADDR environment variable on the controller), '
                             'e.g. https://vault.example.internal:8200.')
        self.params = params
        self.timeout = params.get('timeout') or 30
        verify = params.get('validate_certs', True)
        if verify and params.get('ca_cert'):
            verify = params['ca_cert']
        factory = client_factory or hvac.Client
        self.client = factory(url=self.url, verify=verify, timeout=self.timeout, namespace=params.get('namespace') or None)
        self._logged_in = False

    def login(self):
        """Authenticate (token or AppRole) once."""
        if self._logged_in:
            return
        method = self.params.get('auth_method') or 'token'
        if method == 'approle':
            role_id, secret_id = self.params.get('role_id'), self.params.get('secret_id')
            if not role_id or not secret_id:
                raise VaultError('auth_method=approle needs role_id and secret_id (options, or VAULT_ROLE_ID / VAULT_SECRET_ID).')
            mount = self.params.get('approle_mount') or 'approle'
            self._call(f"logging in with AppRole at 'auth/{mount}'",
                       lambda: self.client.auth.approle.login(role_id=role_id, secret_id=secret_id, mount_point=mount))
        else:
            token = self.params.get('token')
            if not token:
                raise VaultError('No Vault token: set the token option (or VAULT_TOKEN on the controller), '
                                 'or use auth_method=approle with role_id and secret_id.')
            self.client.token = token
        self._logged_in = True

    def _call(self, action, func):
        try:
            return func()
        except Exception as exc:  # noqa: BLE001 - every failure is mapped to a message
            token_valid, policies = None, None
            if HAS_HVAC and isinstance(exc, hvac.exceptions.Forbidden) and self._logged_in:
                token_valid, policies = self._token_state()
            raise VaultError(describe_error(exc, self.url, action, self.timeout, token_valid, policies)) from exc

    def _token_state(self):
        """(valid, policies) of the current token, to tell a bad token from narrow policies."""
        try:
            info = self.client.auth.token.lookup_self()
        except Exception:  # noqa: BLE001 - the token itself is refused
            return False, None
        return True, (info.get('data') or {}).get('policies') or []

    def read(self, path, action=None):
        """Data of path, or None when nothing is there."""
        self.login()
        response = self._call(action or f"reading '{path}'", lambda: self._read(path))
        if response is None:
            return None
        return response.get('data') if isinstance(response, dict) else response

    def _read(self, path):
        try:
            return self.client.read(path)
        except hvac.exceptions.InvalidRequest:
            # Reading an auth method or secrets engine that is not enabled answers 400, not 404.
            if path.startswith(('sys/auth/', 'sys/mounts/')):
                return None
            raise

    def list(self, path, action=None):
        self.login()
        response = self._call(action or f"listing '{path}'", lambda: self.client.list(path))
        return ((response or {}).get('data') or {}).get('keys') or []

    def write(self, path, data, action=None):
        """Write data to path; returns the response data (or {})."""
        self.login()
        response = self._call(action or f"writing '{path}'", lambda: self.client.write_data(path, data=data))
        if isinstance(response, dict):
            return response.get('data') or {}
        return {}

    def delete(self, path, action=None):
        self.login()
        self._call(action or f"deleting '{path}'", lambda: self.client.delete(path))

    def call(self, action, func):
        """Run func(hvac_client) with the same error mapping."""
        self.login()
        return self._call(action, lambda: func(self.client))


# --------------------------------------------------------------------------
# Desired vs read-back configuration
# --------------------------------------------------------------------------

def _normalize(value):
    if isinstance(value, str):
        return value.strip()
    return value


def values_equal(want, have):
    """Compare a desired setting with Vault's read-back value, allowing for Vault's normalisation."""
    want, have = _normalize(want), _normalize(have)
    if isinstance(want, bool) or isinstance(have, bool):
        return want is have or (isinstance(want, bool) and isinstance(have, bool) and want == have)
    if isinstance(want, dict):
        return isinstance(have, dict) and not config_differences(want, have)
    if isinstance(want, (list, tuple)) or isinstance(have, (list, tuple)):
        want_list = [v.strip() for v in want.split(',') if v.strip()] if isinstance(want, str) else list(want or [])
        have_list = [v.strip() for v in have.split(',') if v.strip()] if isinstance(have, str) else list(have or [])
        return len(want_list) == len(have_list) and all(values_equal(w, h) for w, h in zip(want_list, have_list))
    if want == have:
        return True
    if isinstance(want, (str, int)) and isinstance(have, (str, int)):
        try:
            return parse_duration(want) == parse_duration(have)
        except CertError:
            return str(want) == str(have)
    return False


def config_differences(desired, actual):
    """Keys of desired whose value differs from actual (missing keys count as different)."""
    actual = actual or {}
    return sorted(key for key, want in desired.items() if key not in actual or not values_equal(want, actual[key]))
