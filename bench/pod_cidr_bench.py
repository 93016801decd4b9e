#!/usr/bin/env python
# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark: pod CIDR allocation and one host's static route table.

For 1k, 5k and 50k nodes (cluster CIDR 100.64.0.0/10, a /26 per node, the
service CIDR 100.96.0.0/16 inside it and kept out) this times

* alloc:   a fresh allocation (node list in random order),
* realloc: the next run, with the previous result as ``existing``, one node
           removed and one added,
* routes:  the static route table of one node,
* checked: the same with ``connected`` (every next hop checked against the
           host's networks and given its interface, as the role does),

and prints the best of a few runs in CPU time of this process (steadier than
wall-clock time on a busy machine; the wall-clock time of alloc+routes is
shown too), the time per node and how the time per node grows relative to
the first size (1.00 = linear). It prints figures only.

Run: python bench/pod_cidr_bench.py [node counts ...]
"""

from __future__ import annotations

import os
import random
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUSTER_CIDR = '100.64.0.0/10'
NODE_PREFIX = 26
SERVICE_CIDR = '100.96.0.0/16'
HOSTS_BASE = (198 << 24) | (18 << 16)  # node IPs from 198.18.0.0/15
CONNECTED = {'lo': ['127.0.0.1/8'], 'eth0': ['198.18.0.1/15'], 'podbr0': ['100.64.0.1/26']}


def import_collection():
    """Make ansible_collections.hardway.kubernetes importable from the work tree."""
    collections = os.path.join(REPO, 'build', 'collections')
    link = os.path.join(collections, 'ansible_collections', 'hardway', 'kubernetes')
    if not os.path.lexists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(os.path.relpath(REPO, os.path.dirname(link)), link)
    sys.path.insert(0, collections)
    from ansible_collections.hardway.kubernetes.plugins.module_utils._pod_cidr import allocate_pod_cidrs
    from ansible_collections.hardway.kubernetes.plugins.module_utils._routes import static_routes
    return allocate_pod_cidrs, static_routes


def best_of(repeat, func):
    """(best CPU seconds, best wall seconds, result) of repeat calls."""
    cpu = wall = result = None
    for _attempt in range(repeat):
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        result = func()
        cpu_elapsed, wall_elapsed = time.process_time() - cpu_started, time.perf_counter() - wall_started
        cpu = cpu_elapsed if cpu is None else min(cpu, cpu_elapsed)
        wall = wall_elapsed if wall is None else min(wall, wall_elapsed)
    return cpu, wall, result


def measure(count, allocate_pod_cidrs, static_routes):
    names = [f'node-{i}' for i in range(count)]
    random.Random(count).shuffle(names)
    node_ips = {f'node-{i}': '.'.join(str((HOSTS_BASE + i + 1) >> shift & 255) for shift in (24, 16, 8, 0)) for i in range(count)}
    node_ips['node-new'] = '198.19.255.254'
    repeat = 3 if count >= 20000 else 7

    def allocate(nodes, existing=None):
        return allocate_pod_cidrs(nodes, CLUSTER_CIDR, NODE_PREFIX, service_cidr=SERVICE_CIDR, existing=existing)

    alloc, alloc_wall, first = best_of(repeat, lambda: allocate(names))
    next_nodes = names[1:] + ['node-new']
    realloc, _realloc_wall, second = best_of(repeat, lambda: allocate(next_nodes, existing=first))
    routes, routes_wall, _table = best_of(repeat, lambda: static_routes(second, node_ips, 'node-0'))
    checked, _checked_wall, _table = best_of(repeat, lambda: static_routes(second, node_ips, 'node-0', connected=CONNECTED))
    return alloc, realloc, routes, checked, alloc_wall + routes_wall


def main(counts):
    allocate_pod_cidrs, static_routes = import_collection()
    print(f'cluster_cidr {CLUSTER_CIDR}, node_prefix {NODE_PREFIX}, service_cidr {SERVICE_CIDR}; '
          f'best of 7 runs (3 from 20k nodes), load average {os.getloadavg()[0]:.2f}, Python {sys.version.split()[0]}')
    print('CPU ms except the wall column')
    header = (f"{'nodes':>7} {'alloc ms':>9} {'realloc ms':>11} {'routes ms':>10} {'checked ms':>11} {'alloc+routes ms':>16} "
              f"{'wall ms':>8} {'us/node':>8} {'growth':>7}")
    print(header)
    print('-' * len(header))
    base = None
    for count in counts:
        alloc, realloc, routes, checked, wall = measure(count, allocate_pod_cidrs, static_routes)
        total = alloc + routes
        per_node = total / count
        base = per_node if base is None else base
        print(f'{count:>7} {alloc * 1e3:>9.1f} {realloc * 1e3:>11.1f} {routes * 1e3:>10.1f} {checked * 1e3:>11.1f} {total * 1e3:>16.1f} '
              f'{wall * 1e3:>8.1f} {per_node * 1e6:>8.2f} {per_node / base:>7.2f}')
    print('growth = (alloc+routes CPU time per node) / (the same at the first size); 1.00 means linear')


if __name__ == '__main__':
    main([int(arg) for arg in sys.argv[1:]] or [1000, 5000, 50000])
