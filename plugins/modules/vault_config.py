#!/usr/bin/python
# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: vault_config
short_description: Keep settings at a Vault path as declared, writing only when they differ
version_added: 0.1.0
description:
  - Reads the settings at O(path) (a PKI role, C(config/crl), C(config/auto-tidy), an ACL policy, an AppRole role, ...),
    compares them with O(data) and writes only when a declared setting differs. Settings that O(data) does not mention are
    left alone.
  - The comparison allows for the way Vault normalises what it stores, for example V(72h) is read back as V(259200) and
    a comma-separated string as a list.
  - Unlike M(community.hashi_vault.vault_write), a second run with the same data reports no change.
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
  diff_mode:
    support: full
    details:
      - The diff shows the declared settings that differ, before and after.
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
  path:
    description:
      - Vault path of the settings, without the C(/v1/) prefix, for example V(k8s-pki-etcd/roles/etcd-main-server) or
        V(sys/policies/acl/k8s-cert-issuer).
    type: str
    required: true
  data:
    description:
      - The settings to keep. Only these keys are compared and written.
    type: dict
    default: {}
  state:
    description:
      - V(present) writes O(data) when it differs; V(absent) deletes whatever is at O(path).
    type: str
    choices: [present, absent]
    default: present
  create_only:
    description:
      - Write only when nothing is at O(path) yet, and never update it afterwards.
      - For endpoints that refuse a second write, such as enabling an auth method at C(sys/auth/<path>).
    type: bool
    default: false
seealso:
  - module: community.hashi_vault.vault_write
    description: Writes unconditionally and always reports a change.
"""

EXAMPLES = r"""
- name: Keep a PKI role
  hardway.kubernetes.vault_config:
    url: http://127.0.0.1:8200
    path: k8s-pki-etcd/roles/etcd-main-server
    data:
      allowed_domains: [etcd-1, etcd-2, etcd-3]
      allow_bare_domains: true
      allow_ip_sans: true
      server_flag: true
      client_flag: true
      ttl: 72h
  run_once: true

- name: Enable the AppRole auth method unless it is there already
  hardway.kubernetes.vault_config:
    path: sys/auth/approle
    data:
      type: approle
    create_only: true
  run_once: true
"""

RETURN = r"""
differences:
  description: Keys of O(data) that differed from what Vault had (all of them when nothing was there).
  returned: success
  type: list
  elements: str
  sample: [ttl, allowed_domains]
existed:
  description: Whether anything was at O(path) before.
  returned: success
  type: bool
  sample: true
"""
