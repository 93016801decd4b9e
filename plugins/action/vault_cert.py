# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Controller half of hardway.kubernetes.vault_cert; the documentation is in plugins/modules/vault_cert.py.

1. Read the mount's current CA from Vault.
2. Run the module on the host (step ``prepare``): it decides whether the
   certificate must be re-issued and, if so, makes sure a key exists and
   returns a CSR. The private key stays on the host.
3. Send only the CSR to ``<mount>/sign/<role>`` (a CA certificate, ca=true:
   ``<mount>/root/sign-intermediate``) and check that Vault signed what was
   asked for.
4. Run the module again (step ``install``) to write certificate and CA file
   atomically.
The Vault connection options (token, secret_id, ...) are used here and never
sent to the host.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.hardway.kubernetes.plugins.module_utils._certs import (
    VAULT_CERT_INTERNAL_OPTIONS,
    VAULT_CERT_REQUIRED_IF,
    CertError,
    cert_info,
    check_request,
    kind_text,
    load_certificates,
    outlives,
    sign_request,
    signed_mismatches,
    split_sans,
    vault_cert_argument_spec,
    wanted_path_length,
)
from ansible_collections.hardway.kubernetes.plugins.module_utils._vault import (
    VAULT_OPTION_NAMES,
    VaultClient,
    VaultError,
    vault_argument_spec,
)

MODULE = 'hardway.kubernetes.vault_cert'


def _describe(info, fallback=None):
    """Diff text of a certificate's interesting fields."""
    if not info:
        return fallback or '(no certificate)\n'
    return ''.join(f'{key}: {info[key]}\n' for key in ('subject', 'kind', 'serial', 'not_after', 'subject_alt_name', 'issuer') if key in info)


class ActionModule(ActionBase):
    """Sign a host-made CSR in Vault and install the result on the host."""

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        internal = sorted(name for name in self._task.args if name in VAULT_CERT_INTERNAL_OPTIONS)
        if internal:
            raise AnsibleActionFail(f"vault_cert: {', '.join(internal)} are set by the action plugin itself; remove them from the task.")
        spec = vault_cert_argument_spec()
        spec.update(vault_argument_spec())
        dummy, args = self.validate_argument_spec(argument_spec=spec, required_if=VAULT_CERT_REQUIRED_IF)
        try:
            result.update(self._run(args, task_vars))
        except (VaultError, CertError) as exc:
            result.update(failed=True, msg=str(exc))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _host(self, args, step, task_vars, **internal):
        module_args = {name: args[name] for name in vault_cert_argument_spec()}
        module_args['_step'] = step
        module_args.update(internal)
        response = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        response.pop('invocation', None)
        if response.get('failed'):
            raise _HostFailure(response)
        return response

    def _run(self, args, task_vars):
        connection = {name: args.get(name) for name in VAULT_OPTION_NAMES}
        mount = args['mount'].strip('/')
        check_request(args)
        split_sans(args['subject_alt_name'])
        vault = VaultClient(connection)
        ca = vault.read(f'{mount}/cert/ca', action=f"reading the CA certificate of mount '{mount}'")
        ca_pem = (ca or {}).get('certificate')
        if not ca_pem and self._task.check_mode:
            # In a check run of a new cluster, vault_pki has only reported the mount it would create.
            return {'changed': True, 'reissued': True, 'key_generated': False, 'ca_changed': True,
                    'reasons': [f"mount '{mount}' has no CA yet (hardway.kubernetes.vault_pki creates it)"],
                    'serial': '', 'not_after': '', 'subject_alt_name': args['subject_alt_name']}
        if not ca_pem:
            raise VaultError(f"Mount '{mount}' at Vault {vault.url} holds no CA certificate: is the mount name right, and has the "
                             'hardway.kubernetes.vault_pki role set it up?')
        try:
            prep = self._host(args, 'prepare', task_vars, _ca_pem=ca_pem)
        except _HostFailure as failure:
            return failure.response
        check = bool(self._task.check_mode)
        before = prep.get('before')
        out = {
            'changed': bool(prep['changed'] or prep['ca_changed'] or prep['reissue']),
            'reissued': bool(prep['reissue']),
            'reasons': prep['reasons'],
            'key_generated': bool(prep['key_generated']),
            'ca_changed': bool(prep['ca_changed']),
        }
        after = before
        if not prep['reissue']:
            if prep['ca_changed'] and not check:
                try:
                    self._host(args, 'install', task_vars, _ca_pem=ca_pem)
                except _HostFailure as failure:
                    return failure.response
        elif check:
            after = {'subject': f"(to be issued) CN={args['common_name']}", 'serial': '(new)', 'not_after': '(new)',
                     'subject_alt_name': args['subject_alt_name']}
            if args['ca']:
                after['kind'] = kind_text(True, wanted_path_length(args['ca_max_path_length']))
        else:
            certificate, issuing_ca, info, warnings = self._sign(vault, args, prep['csr'], ca_pem, task_vars)
            if warnings:
                out['warnings'] = warnings
            try:
                installed = self._host(args, 'install', task_vars, _certificate=certificate, _ca_pem=issuing_ca)
            except _HostFailure as failure:
                return failure.response
            out['ca_changed'] = bool(installed.get('ca_changed'))
            after = installed.get('after') or info
        current = after if not check else before
        out['serial'] = (current or {}).get('serial', '')
        out['not_after'] = (current or {}).get('not_after', '')
        out['subject_alt_name'] = (current or {}).get('subject_alt_name', [])
        if self._task.diff:
            out['diff'] = {
                'before_header': args['cert_path'], 'after_header': args['cert_path'],
                'before': _describe(before), 'after': _describe(after),
            }
        return out

    @staticmethod
    def _sign(vault, args, csr, ca_pem, task_vars):
        """Have Vault sign csr and check the result: (certificate PEM, issuing CA PEM, cert_info, warnings)."""
        mount = args['mount'].strip('/')
        path, data = sign_request(args, csr)
        host = task_vars.get('inventory_hostname', 'the host')
        if args['ca']:
            what = f"the CSR of {host} for a CA certificate with mount '{mount}'"
        else:
            what = f"the CSR of {host} with role '{args['role']}' of mount '{mount}'"
        signed = vault.write(path, data, action=f'signing {what}')
        certificate = signed.get('certificate')
        if not certificate:
            raise VaultError(f"Vault at {vault.url} returned no certificate for '{path}'.")
        # Only the first certificate is the signed one; the file gets exactly that one (no chain).
        cert = load_certificates(certificate, f"the certificate from '{path}'")[0]
        mismatches = signed_mismatches(cert, args)
        if mismatches and args['ca']:
            raise VaultError(
                f"Vault at {vault.url} answered '{path}' with a certificate that differs from the request "
                f"({'; '.join(mismatches)}). A CA certificate is installed only when it is exactly what was asked for: check the CA of "
                f"mount '{mount}' and ca_max_path_length. Nothing was installed.")
        if mismatches:
            raise VaultError(
                f"Vault role '{args['role']}' of mount '{mount}' signed a certificate that differs from the request "
                f"({'; '.join(mismatches)}). The role's organization and name rules decide this: fix the role "
                '(hardway.kubernetes.vault_pki) or the task. Nothing was installed.')
        issuing_ca = signed.get('issuing_ca') or ca_pem
        warnings = []
        issuer = load_certificates(issuing_ca, f"the issuing CA from '{path}'")[0]
        if outlives(cert, issuer):
            warnings.append(f"The certificate for {args['cert_path']} is valid until {cert_info(cert)['not_after']}, longer than "
                            f"the CA of mount '{mount}' that signed it ({cert_info(issuer)['not_after']}): it stops verifying when "
                            'that CA expires. Ask for a shorter ttl or renew the CA first.')
        return certificate, issuing_ca, cert_info(cert), warnings


class _HostFailure(Exception):
    """The module failed on the host; its response goes back to the user unchanged."""

    def __init__(self, response):
        super().__init__(response.get('msg'))
        self.response = response
