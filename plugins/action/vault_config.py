# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""hardway.kubernetes.vault_config (controller only); the documentation is in plugins/modules/vault_config.py."""

from __future__ import annotations

from ansible_collections.hardway.kubernetes.plugins.module_utils._vault import config_differences
from ansible_collections.hardway.kubernetes.plugins.plugin_utils._vault_action import VaultActionBase


def _lines(data, keys):
    return ''.join(f'{key}: {data.get(key)!r}\n' for key in keys if key in data)


class ActionModule(VaultActionBase):
    """Write the declared settings at a Vault path when they differ from what Vault reads back."""

    ARGUMENT_SPEC = {
        'path': {'type': 'str', 'required': True},
        'data': {'type': 'dict', 'default': {}},
        'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
        'create_only': {'type': 'bool', 'default': False},
    }

    def manage(self, vault, args, check_mode, diff):
        path, data = args['path'].strip('/'), args['data']
        current = vault.read(path)
        result = {'changed': False, 'existed': current is not None, 'differences': []}
        if args['state'] == 'absent':
            if current is not None:
                result['changed'] = True
                if not check_mode:
                    vault.delete(path)
            return result
        if current is not None and args['create_only']:
            return result
        differences = config_differences(data, current)
        result['differences'] = differences
        if differences:
            result['changed'] = True
            if diff:
                result['diff'] = {'before_header': path, 'after_header': path,
                                  'before': _lines(current or {}, differences), 'after': _lines(data, differences)}
            if not check_mode:
                vault.write(path, data)
        return result
