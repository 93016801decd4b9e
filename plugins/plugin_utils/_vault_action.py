# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Base class of the collection's controller-only Vault actions (vault_config, vault_pki_ca).

This is a private plugin_utils file of hardway.kubernetes: no stability
guarantees for other collections.

These actions talk to Vault's HTTP API and never touch the managed host, so
they run inside the controller's worker process: no module upload, no Python
start per loop item. Arguments are validated against ARGUMENT_SPEC plus the
shared Vault connection options (with VAULT_* environment fallbacks read on
the controller).
"""

from __future__ import annotations

from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.hardway.kubernetes.plugins.module_utils._certs import CertError
from ansible_collections.hardway.kubernetes.plugins.module_utils._vault import VaultClient, VaultError, vault_argument_spec


class VaultActionBase(ActionBase):
    """Validate the arguments, connect to Vault, call manage(), map errors to messages."""

    TRANSFERS_FILES = False
    _requires_connection = False
    ARGUMENT_SPEC: dict = {}
    REQUIRED_IF: list = []

    @classmethod
    def argument_spec(cls):
        spec = dict(cls.ARGUMENT_SPEC)
        spec.update(vault_argument_spec())
        return spec

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        spec = self.argument_spec()
        dummy, args = self.validate_argument_spec(argument_spec=spec, required_if=self.REQUIRED_IF)
        secrets = {str(args[name]) for name, option in spec.items() if option.get('no_log') and args.get(name)}
        try:
            vault = VaultClient(args)
            result.update(self.manage(vault, args, check_mode=bool(self._task.check_mode), diff=bool(self._task.diff)))
        except (VaultError, CertError) as exc:
            result.update(failed=True, msg=str(exc))
        return remove_values(result, secrets)

    def manage(self, vault, args, check_mode, diff):  # pragma: no cover - abstract
        raise NotImplementedError
