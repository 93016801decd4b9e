#!/usr/bin/env bash
# Changelog gate: every fragment in changelogs/fragments/ and the release
# history in changelogs/changelog.yaml must be valid for antsibull-changelog.
#
# Usage: tests/quality/changelog.sh       (from anywhere)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -x "$REPO/.venv/bin/python" ]]; then
  PATH="$REPO/.venv/bin:$PATH"
fi
export PATH
cd "$REPO"

antsibull-changelog lint
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
echo "changelog: fragments and changelogs/changelog.yaml are valid"
