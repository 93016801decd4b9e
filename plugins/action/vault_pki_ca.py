# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""hardway.kubernetes.vault_pki_ca (controller only); the documentation is in plugins/modules/vault_pki_ca.py."""

from __future__ import annotations

from ansible_collections.hardway.kubernetes.plugins.module_utils._certs import cert_info, load_certificates
from ansible_collections.hardway.kubernetes.plugins.module_utils._vault import VaultError, values_equal
from ansible_collections.hardway.kubernetes.plugins.plugin_utils._vault_action import VaultActionBase


class CaMount:
    """One PKI mount and its CA; every step is recorded in actions and skipped in check mode."""

    def __init__(self, vault, args, check_mode):
        self.vault, self.p, self.check_mode = vault, args, check_mode
        self.mount = args['mount'].strip('/')
        self.actions = []
        self.warnings = []

    def act(self, description, func):
        self.actions.append(description)
        if not self.check_mode:
            func()

    def ensure_mount(self):
        """Enable or tune the secrets engine; True when it existed before."""
        mounts = self.vault.call('listing secrets engines', lambda c: c.sys.list_mounted_secrets_engines())
        mounts = mounts.get('data') or mounts
        entry = mounts.get(self.mount + '/')
        if entry is None:
            self.act(f'enable PKI secrets engine at {self.mount}', lambda: self.vault.call(
                f"enabling the PKI secrets engine at '{self.mount}'",
                lambda c: c.sys.enable_secrets_engine(backend_type='pki', path=self.mount, description=self.p['description'],
                                                      config={'max_lease_ttl': self.p['max_lease_ttl']})))
            return False
        if entry.get('type') != 'pki':
            raise VaultError(f"mount: '{self.mount}' at Vault {self.vault.url} is a {entry.get('type')} secrets engine, not pki; "
                             'choose another cluster name or mount path.')
        tune = {}
        if not values_equal(self.p['max_lease_ttl'], (entry.get('config') or {}).get('max_lease_ttl')):
            tune['max_lease_ttl'] = self.p['max_lease_ttl']
        if (entry.get('description') or '') != self.p['description']:
            tune['description'] = self.p['description']
        if tune:
            self.act(f"tune {self.mount}: {', '.join(sorted(tune))}", lambda: self.vault.call(
                f"tuning '{self.mount}'", lambda c: c.sys.tune_mount_configuration(path=self.mount, **tune)))
        return True

    def current_ca(self):
        """(issuer data, PEM) of the default issuer, or (None, None)."""
        issuers = self.vault.list(f'{self.mount}/issuers', action=f"listing the issuers of '{self.mount}'")
        if not issuers:
            return None, None
        issuer = self.vault.read(f'{self.mount}/issuer/default', action=f"reading the default issuer of '{self.mount}'")
        if not issuer or not issuer.get('key_id'):
            raise VaultError(f"'{self.mount}' at Vault {self.vault.url} has issuers but no default issuer with a key; "
                             'finish or remove the half-done CA setup by hand (vault_pki_ca never replaces a CA).')
        return issuer, issuer.get('certificate')

    def create_root(self):
        if self.p['pem_bundle']:
            self.act(f'import root CA into {self.mount}', lambda: self.vault.write(
                f'{self.mount}/config/ca', {'pem_bundle': self.p['pem_bundle']}, action=f"importing the root CA into '{self.mount}'"))
            return
        data = {'common_name': self.p['common_name'], 'ttl': self.p['ttl'], 'key_type': self.p['key_type'],
                'key_bits': self.p['key_bits'], 'max_path_length': self.p['max_path_length']}
        self.act(f"generate root CA {self.p['common_name']!r}", lambda: self.vault.write(
            f'{self.mount}/root/generate/internal', data, action=f"generating the root CA of '{self.mount}'"))

    def create_intermediate(self):
        parent = (self.p['parent_mount'] or '').strip('/')

        def run():
            csr = self.vault.write(f'{self.mount}/intermediate/generate/internal',
                                   {'common_name': self.p['common_name'], 'key_type': self.p['key_type'], 'key_bits': self.p['key_bits']},
                                   action=f"generating the intermediate CA key of '{self.mount}'").get('csr')
            if not csr:
                raise VaultError(f"Vault at {self.vault.url} returned no CSR for '{self.mount}/intermediate/generate/internal'.")
            signed = self.vault.write(f'{parent}/root/sign-intermediate',
                                      {'csr': csr, 'common_name': self.p['common_name'], 'ttl': self.p['ttl'],
                                       'max_path_length': self.p['max_path_length'], 'format': 'pem'},
                                      action=f"signing the intermediate CA of '{self.mount}' with '{parent}'")
            chain = signed['certificate'].strip() + '\n' + (signed.get('issuing_ca') or '').strip() + '\n'
            self.vault.write(f'{self.mount}/intermediate/set-signed', {'certificate': chain},
                             action=f"importing the signed intermediate CA into '{self.mount}'")

        self.act(f"generate intermediate CA {self.p['common_name']!r} signed by {parent}", run)

    def ensure(self):
        issuer, pem = None, None
        if self.ensure_mount():
            issuer, pem = self.current_ca()
        if issuer is None:
            if self.p['ca_type'] == 'root':
                self.create_root()
            else:
                self.create_intermediate()
            if not self.check_mode:
                issuer, pem = self.current_ca()
        elif pem:
            name = cert_info(load_certificates(pem, f'the CA of {self.mount}')[0])['common_name']
            if name != self.p['common_name']:
                self.warnings.append(f"The CA in '{self.mount}' has common name {name!r}, not {self.p['common_name']!r}; "
                                     'an existing CA is never replaced. Rotate it deliberately if the name must change.')
        return issuer, pem


class ActionModule(VaultActionBase):
    """Enable/tune a PKI mount and create its CA once."""

    ARGUMENT_SPEC = {
        'mount': {'type': 'str', 'required': True},
        'description': {'type': 'str', 'default': ''},
        'max_lease_ttl': {'type': 'str', 'default': '87600h'},
        'ca_type': {'type': 'str', 'required': True, 'choices': ['root', 'intermediate']},
        'common_name': {'type': 'str', 'required': True},
        'ttl': {'type': 'str', 'default': '43800h'},
        'key_type': {'type': 'str', 'default': 'ec', 'choices': ['ec', 'rsa']},
        'key_bits': {'type': 'int', 'default': 256},
        'parent_mount': {'type': 'str'},
        'max_path_length': {'type': 'int', 'default': -1},
        'pem_bundle': {'type': 'str', 'no_log': True},
    }
    REQUIRED_IF = [('ca_type', 'intermediate', ('parent_mount',))]

    def manage(self, vault, args, check_mode, diff):
        if args['pem_bundle'] and args['ca_type'] != 'root':
            raise VaultError('pem_bundle: only a root CA can be imported; remove pem_bundle or set ca_type=root.')
        ca = CaMount(vault, args, check_mode)
        issuer, pem = ca.ensure()
        result = {'changed': bool(ca.actions), 'actions': ca.actions, 'ca_certificate': pem or '',
                  'issuer_id': (issuer or {}).get('issuer_id', '')}
        if ca.warnings:
            result['warnings'] = ca.warnings
        return result
