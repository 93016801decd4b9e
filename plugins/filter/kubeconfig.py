# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""The hardway.kubernetes.kubeconfig filter; its documentation is in kubeconfig.yml."""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

from ansible.errors import AnsibleFilterError


def _absolute(option, value):
    text = str(value or '')
    if not text.startswith('/') or posixpath.normpath(text) != text:
        raise AnsibleFilterError(f'kubeconfig: {option} must be an absolute, normalised file path, got {value!r}; '
                                 'kubeconfigs written by this collection reference certificate files by path so that '
                                 'rotated certificates are picked up')
    return text


def kubeconfig(server, ca_file, cert_file, key_file, user='default', cluster='kubernetes', namespace=None):
    """A kubeconfig (as a dict) for one user, one cluster and one context, with every certificate referenced by path."""
    url = str(server or '')
    parts = urlsplit(url)
    if parts.scheme != 'https' or not parts.hostname:
        raise AnsibleFilterError(f'kubeconfig: the server must be an https:// URL such as https://198.18.0.20:6443, got {server!r}')
    for option, value in (('user', user), ('cluster', cluster)):
        if not isinstance(value, str) or not value.strip():
            raise AnsibleFilterError(f'kubeconfig: {option} must be a non-empty name, got {value!r}')
    context = {'cluster': cluster, 'user': user}
    if namespace:
        context['namespace'] = str(namespace)
    return {
        'apiVersion': 'v1',
        'kind': 'Config',
        'preferences': {},
        'clusters': [{'name': cluster, 'cluster': {'server': url, 'certificate-authority': _absolute('ca_file', ca_file)}}],
        'users': [{'name': user, 'user': {'client-certificate': _absolute('cert_file', cert_file),
                                          'client-key': _absolute('key_file', key_file)}}],
        'contexts': [{'name': f'{user}@{cluster}', 'context': context}],
        'current-context': f'{user}@{cluster}',
    }


class FilterModule:
    """kubeconfig filter."""

    def filters(self):
        return {'kubeconfig': kubeconfig}
