# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Private documentation fragment of hardway.kubernetes: Vault connection and auth options."""

from __future__ import annotations


class ModuleDocFragment:
    """Options of plugins/module_utils/_vault.py vault_argument_spec()."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Address of Vault (or OpenBao), for example V(https://vault.example.internal:8200).
      - When not set, the E(VAULT_ADDR) environment variable is used.
    type: str
  auth_method:
    description:
      - How to authenticate to Vault.
      - V(token) uses O(token); V(approle) logs in with O(role_id) and O(secret_id) at O(approle_mount).
    type: str
    choices: [token, approle]
    default: token
  token:
    description:
      - Vault token for O(auth_method=token). When not set, E(VAULT_TOKEN) is used.
      - Never logged.
    type: str
  role_id:
    description:
      - AppRole role ID for O(auth_method=approle). When not set, E(VAULT_ROLE_ID) is used.
    type: str
  secret_id:
    description:
      - AppRole secret ID for O(auth_method=approle). When not set, E(VAULT_SECRET_ID) is used.
      - Never logged.
    type: str
  approle_mount:
    description:
      - Mount path of the AppRole auth method.
    type: str
    default: approle
  ca_cert:
    description:
      - CA bundle that verifies Vault's TLS certificate. When not set, E(VAULT_CACERT) is used, then the system trust store.
    type: path
  validate_certs:
    description:
      - Verify Vault's TLS certificate. Only turn this off in throw-away labs.
    type: bool
    default: true
  namespace:
    description:
      - Vault Enterprise / OpenBao namespace. When not set, E(VAULT_NAMESPACE) is used.
    type: str
  timeout:
    description:
      - Seconds to wait for each answer from Vault.
    type: int
    default: 30
notes:
  - "Failures name the Vault address, the path and the cause, for example C(Cannot reach Vault at https://vault:8200 ...: Connection refused)
    or C(Permission denied by Vault at ... for POST 'k8s-pki-etcd/sign/etcd-main-server' ...)."
"""

    IDEMPOTENT = r"""
options: {}
attributes:
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled or queried by the module has not changed in a relevant way.
"""
