# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Tests for the cert_report_row and cert_report_table filters."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hardway.kubernetes.plugins.filter import cert_report as plugin

FILTERS = plugin.FilterModule().filters()
row = FILTERS['cert_report_row']
table = FILTERS['cert_report_table']
ITEM = {'name': 'apiserver', 'component': 'kube-apiserver', 'cert': '/etc/kubernetes/pki/apiserver.crt'}


def test_days_left_serial_and_expiry():
    result = {'item': ITEM, 'not_after': '20261125120000Z', 'serial_number': 0x1F2E}
    out = row(result, 'apiserver-1', now='2026-11-22T00:00:00Z')
    assert out == {'component': 'kube-apiserver', 'host': 'apiserver-1', 'name': 'apiserver', 'file': ITEM['cert'],
                   'serial': '1f2e', 'not_after': '2026-11-25 12:00', 'days_left': 3.5, 'error': ''}


def test_a_missing_certificate_has_no_days_left_and_says_why():
    out = row({'item': ITEM, 'failed': True, 'msg': 'Error while reading file\nmore'}, 'apiserver-1')
    assert out['days_left'] is None and out['error'] == 'Error while reading file'


def test_expired_is_negative():
    out = row({'item': ITEM, 'not_after': '20261120000000Z', 'serial_number': 1}, 'h', now='2026-11-22T00:00:00+00:00')
    assert out['days_left'] == -2.0


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match='one result of a loop'):
        row({'not_after': 'x'}, 'h')
    with pytest.raises(AnsibleFilterError, match='must be a list'):
        table('x')


def test_table_is_sorted_and_aligned():
    rows = [row({'item': {**ITEM, 'component': 'kube-scheduler', 'name': 'scheduler-client'}, 'not_after': '20261125000000Z',
                 'serial_number': 10}, 'scheduler-1', now='2026-11-22T00:00:00Z'),
            row({'item': ITEM, 'failed': True, 'msg': 'missing'}, 'apiserver-1')]
    lines = table(rows)
    assert lines[0].split() == ['component', 'host', 'certificate', 'serial', 'not', 'after', '(UTC)', 'days', 'left']
    assert lines[1].startswith('kube-apiserver') and lines[1].endswith('missing')
    assert lines[2].startswith('kube-scheduler') and lines[2].endswith('3.00')
    assert lines[1].index('apiserver-1') == lines[0].index('host') == lines[2].index('scheduler-1')
