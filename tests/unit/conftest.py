# Copyright (c) hardway.kubernetes contributors
# SPDX-License-Identifier: Apache-2.0
"""Make ``ansible_collections.hardway.kubernetes`` importable from the work tree.

<repo>/build/collections/ansible_collections/hardway/kubernetes is a symlink
to the repository root, and <repo>/build/collections goes first on sys.path.
"""

from __future__ import annotations

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(REPO, 'build', 'collections')
LINK = os.path.join(COLLECTIONS, 'ansible_collections', 'hardway', 'kubernetes')

if not os.path.lexists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(os.path.relpath(REPO, os.path.dirname(LINK)), LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
