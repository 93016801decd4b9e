# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""The hardway.kubernetes.cert_report_row and cert_report_table filters; documentation in cert_report_row.yml
and cert_report_table.yml."""

from __future__ import annotations

import datetime

from ansible.errors import AnsibleFilterError

from ansible_collections.hardway.kubernetes.plugins.module_utils._certs import utc_moment

_COLUMNS = (('component', 'component'), ('host', 'host'), ('certificate', 'name'), ('serial', 'serial'),
            ('not after (UTC)', 'not_after'), ('days left', 'days_left'))


def cert_report_row(result, host, now=None):
    """One report row from a looped community.crypto.x509_certificate_info result whose item is a table row."""
    if not isinstance(result, dict) or not isinstance(result.get('item'), dict):
        raise AnsibleFilterError('cert_report_row: the input must be one result of a loop over certificate table rows')
    row = result['item']
    out = {'component': row.get('component', ''), 'host': str(host), 'name': row.get('name', ''), 'file': row.get('cert', '')}
    if result.get('failed') or not result.get('not_after'):
        out.update(serial='', not_after='', days_left=None,
                   error=str(result.get('msg') or 'unreadable').splitlines()[0])
        return out
    not_after = datetime.datetime.strptime(result['not_after'], '%Y%m%d%H%M%SZ').replace(tzinfo=datetime.timezone.utc)
    serial = result.get('serial_number')
    out.update(serial=format(serial, 'x') if isinstance(serial, int) else str(serial or ''),
               not_after=not_after.strftime('%Y-%m-%d %H:%M'),
               days_left=round((not_after - utc_moment(now)).total_seconds() / 86400, 2), error='')
    return out


def cert_report_table(rows):
    """A fixed-width text table of report rows, sorted by component, host and certificate (list of lines)."""
    if not isinstance(rows, (list, tuple)):
        raise AnsibleFilterError('cert_report_table: the input must be a list of cert_report_row results')
    ordered = sorted(rows, key=lambda r: (r.get('component', ''), r.get('host', ''), r.get('name', '')))
    cells = [[column[0] for column in _COLUMNS]]
    for row in ordered:
        days = row.get('days_left')
        cells.append([str(row.get(key, '')) if key != 'days_left' else (f'{days:.2f}' if days is not None else row.get('error') or 'missing')
                      for key in (column[1] for column in _COLUMNS)])
    widths = [max(len(line[i]) for line in cells) for i in range(len(_COLUMNS))]
    return ['  '.join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in cells]


class FilterModule:
    """Certificate report filters."""

    def filters(self):
        return {'cert_report_row': cert_report_row, 'cert_report_table': cert_report_table}
