#!/usr/bin/python
# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_pki_ca
short_description: Keep a Vault PKI mount that holds a root or intermediate CA
version_added: 0.1.0
description:
  - Enables a PKI secrets engine at O(mount) when it is missing and keeps its maximum lease TTL and description.
  - Creates the mount's CA once, when the mount has no issuer with a key yet. A root CA is generated inside Vault (its key never
    leaves Vault) or imported from O(pem_bundle). An intermediate CA's key is generated inside the mount, its CSR is signed by
    O(parent_mount) and the signed certificate (with the parent's chain) is imported.
  - An existing CA is never replaced; rotating a CA is a deliberate operation outside this module.
  - Works with HashiCorp Vault and OpenBao.
author:
  - hardway.kubernetes contributors (!UNKNOWN)
requirements:
  - hvac on the controller.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - hardway.kubernetes._vault
  - hardway.kubernetes._vault.idempotent
attributes:
  check_mode:
    support: full
    details:
      - Reports what would be enabled, tuned or generated, and changes nothing.
  diff_mode:
    support: none
  platform:
    platforms: all
    details:
      - Runs on the controller only and talks to Vault's API; the managed host is not contacted, C(delegate_to) is not needed.
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  idempotent:
    support: full
options:
  mount:
    description:
      - Path of the PKI secrets engine, for example V(k8s-root) or V(k8s-pki-etcd).
    type: str
    required: true
  description:
    description:
      - Description of the mount.
    type: str
    default: ''
  max_lease_ttl:
    description:
      - Maximum lifetime of certificates from this mount (the CA's own lifetime must fit in it).
    type: str
    default: 87600h
  ca_type:
    description:
      - V(root) for a self-signed root CA, V(intermediate) for a CA signed by O(parent_mount).
    type: str
    choices: [root, intermediate]
    required: true
  common_name:
    description:
      - Common name of the CA certificate when it is created.
    type: str
    required: true
  ttl:
    description:
      - Lifetime of the CA certificate when it is created.
    type: str
    default: 43800h
  key_type:
    description:
      - Type of the CA key generated inside Vault.
    type: str
    choices: [ec, rsa]
    default: ec
  key_bits:
    description:
      - Size of the CA key (V(256)/V(384) for EC, V(2048)/V(4096) for RSA).
    type: int
    default: 256
  parent_mount:
    description:
      - Mount whose CA signs this intermediate. Required with O(ca_type=intermediate).
    type: str
  max_path_length:
    description:
      - Maximum number of CAs that may follow this one in a chain; V(-1) means no limit.
    type: int
    default: -1
  pem_bundle:
    description:
      - Root CA certificate and unencrypted private key (PEM) to import instead of generating a root. Only with
        O(ca_type=root); only used when the mount has no CA yet. Never logged.
    type: str
"""

EXAMPLES = r"""
- name: Root CA of the cluster, in a mount of its own
  hardway.kubernetes.vault_pki_ca:
    mount: k8s-root
    ca_type: root
    common_name: k8s root CA
    ttl: 87600h
    max_lease_ttl: 87600h
  run_once: true

- name: etcd CA, signed by the root
  hardway.kubernetes.vault_pki_ca:
    mount: k8s-pki-etcd
    ca_type: intermediate
    parent_mount: k8s-root
    common_name: k8s etcd CA
    ttl: 43800h
    max_lease_ttl: 43800h
  run_once: true
"""

RETURN = r"""
actions:
  description: What was (or in check mode would be) done.
  returned: success
  type: list
  elements: str
  sample: ["enable PKI secrets engine at k8s-pki-etcd", "generate intermediate CA 'k8s etcd CA' signed by k8s-root"]
ca_certificate:
  description: PEM certificate of the mount's CA (the default issuer). Empty in check mode when the CA does not exist yet.
  returned: success
  type: str
issuer_id:
  description: ID of the mount's default issuer. Empty in check mode when the CA does not exist yet.
  returned: success
  type: str
  sample: 0b1c8d58-77c3-0d77-5d47-0e2b1e5f3a10
"""
