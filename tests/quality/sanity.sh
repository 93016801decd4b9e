#!/usr/bin/env bash
# Sanity gate: `ansible-test sanity` on a clean copy of the collection.
#
# ansible-test wants the collection at .../ansible_collections/hardway/kubernetes
# and tests every file it finds there, so this copies exactly the files git
# would commit (tracked plus untracked-but-not-ignored) into
# <repo>/build/sanity/ansible_collections/hardway/kubernetes, recreated on
# every run, and runs ansible-test from there. The collections from
# requirements.yml are linked beside it so imports from them resolve.
#
# Each sanity test runs in its own virtualenv with ansible-test's pinned
# requirements (--venv --requirements), installed from the package index.
# ansible-test bootstraps pip in those virtualenvs with a get-pip.py script
# it downloads from a host that is not a package index; where that host is
# not reachable (as here), tests/quality/ansible_test_get_pip.py stands in
# for it. To touch nothing of the user's own ~/.ansible, ansible-test runs
# with HOME=<repo>/.cache/ansible-test-home, which also keeps its virtualenv
# cache, so only the first run installs anything.
#
# Usage: tests/quality/sanity.sh [extra ansible-test sanity arguments]
#   e.g. tests/quality/sanity.sh --test validate-modules
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -x "$REPO/.venv/bin/python" ]]; then
  PATH="$REPO/.venv/bin:$PATH"
fi
export PATH
PYTHON_VERSION="3.11"

ROOT="$REPO/build/sanity"
COPY="$ROOT/ansible_collections/hardway/kubernetes"
rm -rf "$ROOT"
mkdir -p "$COPY"

# Copy what git would commit; a tracked file deleted in the work tree is skipped.
(
  cd "$REPO"
  git ls-files -co --exclude-standard -z |
    while IFS= read -r -d '' file; do
      if [[ -e "$file" || -L "$file" ]]; then printf '%s\0' "$file"; fi
    done |
    rsync -a --from0 --files-from=- ./ "$COPY/"
)

# Dependencies side by side, as ansible-test expects other collections.
DEPS="$("$REPO/tests/quality/install_collections.sh" | tail -n 1)"
for dep in "$DEPS"/ansible_collections/*/*; do
  ns="$(basename "$(dirname "$dep")")"
  name="$(basename "$dep")"
  [[ "$ns/$name" == "hardway/kubernetes" ]] && continue
  mkdir -p "$ROOT/ansible_collections/$ns"
  ln -s "$(cd "$dep" && pwd -P)" "$ROOT/ansible_collections/$ns/$name"
done

# A private HOME for ansible-test (its virtualenvs, its pip bootstrap script).
TEST_HOME="$REPO/.cache/ansible-test-home"
pip_version="$(python -c 'import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="'"$PYTHON_VERSION"'"))["pip"])')"
mkdir -p "$TEST_HOME/.ansible/test/cache"
cp "$REPO/tests/quality/ansible_test_get_pip.py" "$TEST_HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

cd "$COPY"
# The copy sits inside this repository's git work tree, where build/ is
# ignored: without this, ansible-test would ask git for the files and find
# none. Pinning the content root makes it take the copied files as they are.
export ANSIBLE_TEST_CONTENT_ROOT="$COPY"
start=$SECONDS
status=0
HOME="$TEST_HOME" ansible-test sanity --python "$PYTHON_VERSION" --venv --requirements --color no "$@" || status=$?
echo "ansible-test sanity: $((SECONDS - start)) s, exit $status"
exit "$status"
