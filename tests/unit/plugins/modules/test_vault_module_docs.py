# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""The documented options of the Vault modules are exactly the options their code accepts.

vault_config and vault_pki_ca are controller-only actions whose module files
hold only documentation, so ansible-test's validate-modules cannot compare
their docs with their argument specs; this test does, for all three.
"""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.hardway.kubernetes.plugins.action import vault_config as vault_config_action
from ansible_collections.hardway.kubernetes.plugins.action import vault_pki_ca as vault_pki_ca_action
from ansible_collections.hardway.kubernetes.plugins.doc_fragments._vault import ModuleDocFragment
from ansible_collections.hardway.kubernetes.plugins.module_utils import _certs
from ansible_collections.hardway.kubernetes.plugins.module_utils._certs import sign_request
from ansible_collections.hardway.kubernetes.plugins.modules import vault_cert, vault_config, vault_pki_ca

FRAGMENT_OPTIONS = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']


def _documented(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert 'hardway.kubernetes._vault' in doc['extends_documentation_fragment']
    options = dict(FRAGMENT_OPTIONS)
    options.update(doc['options'])
    return doc, options


@pytest.mark.parametrize('module, spec', [
    (vault_cert, vault_cert.argument_spec()),
    (vault_config, vault_config_action.ActionModule.argument_spec()),
    (vault_pki_ca, vault_pki_ca_action.ActionModule.argument_spec()),
], ids=['vault_cert', 'vault_config', 'vault_pki_ca'])
def test_docs_match_argument_spec(module, spec):
    doc, options = _documented(module)
    assert sorted(options) == sorted(spec)
    for name, option in spec.items():
        documented = options[name]
        assert documented['type'] == option['type'], name
        assert documented.get('default') == option.get('default'), name
        assert documented.get('choices') == option.get('choices'), name
        assert documented.get('required', False) == option.get('required', False), name
        assert documented.get('elements') == option.get('elements'), name
        if option.get('no_log'):
            assert 'Never logged.' in ' '.join(documented['description']), name
    for key in ('EXAMPLES', 'RETURN'):
        assert yaml.safe_load(getattr(module, key))
    assert {'check_mode', 'diff_mode', 'idempotent'} <= set(doc['attributes'])


def test_only_sign_is_ever_called():
    """CSRs go to <mount>/sign/<role> or, for a CA, <mount>/root/sign-intermediate; 'issue/' appears in no request path."""
    leaf = {'mount': '/k8s-pki-etcd/', 'role': 'etcd-main-server', 'common_name': 'etcd-1', 'ca': False}
    assert sign_request(leaf, 'CSR')[0] == 'k8s-pki-etcd/sign/etcd-main-server'
    ca = {'mount': 'k8s-pki-kubernetes', 'role': None, 'common_name': 'k8s kubelet signing CA cm-1', 'ca': True, 'ca_max_path_length': 0}
    assert sign_request(ca, 'CSR')[0] == 'k8s-pki-kubernetes/root/sign-intermediate'
    for path in (vault_cert.__file__.replace('/modules/', '/action/'), _certs.__file__):
        with open(path, encoding='utf-8') as handle:
            source = handle.read()
        assert '/issue/' not in source and 'sign-verbatim' not in source, path
