#!/usr/bin/env bash
# Lint gate: the metadata files agree (tests/quality/check_metadata.py),
# yamllint over the repository, then ansible-lint (production profile,
# settings in .ansible-lint) from the collection root. The collections path
# from install_collections.sh holds the dependencies and this checkout as
# hardway.kubernetes, so every hardway.kubernetes.* name resolves here.
#
# Usage: tests/quality/lint.sh            (from anywhere)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -x "$REPO/.venv/bin/python" ]]; then
  PATH="$REPO/.venv/bin:$PATH"
fi
export PATH
cd "$REPO"

# Collections from requirements.yml, so module and filter FQCNs resolve.
COLLECTIONS="$("$REPO/tests/quality/install_collections.sh" | tail -n 1)"
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS${ANSIBLE_COLLECTIONS_PATH:+:$ANSIBLE_COLLECTIONS_PATH}"

status=0

echo "== metadata (meta/runtime.yml, galaxy.yml, requirements.yml)"
python tests/quality/check_metadata.py "$REPO" || status=1

echo "== yamllint"
start=$SECONDS
yamllint --strict -c .yamllint . || status=1
echo "yamllint: $((SECONDS - start)) s"

echo "== ansible-lint --profile production"
start=$SECONDS
ansible-lint --profile production -c .ansible-lint --offline || status=1
echo "ansible-lint: $((SECONDS - start)) s"

exit "$status"
