#!/usr/bin/env bash
# Install the collections listed in requirements.yml (the collection's own
# dependencies) and awx/requirements.yml (awx.awx, which only
# awx/configure.yml uses) into a project-local collections path (default:
# <repo>/.cache/collections), for ansible-lint, ansible-test sanity and the
# playbooks. The path also gets
# ansible_collections/hardway/kubernetes as a link to this checkout, so with
# ANSIBLE_COLLECTIONS_PATH=<path> every hardway.kubernetes.* name resolves here.
#
# 1. Galaxy first: `ansible-galaxy collection install -r FILE` for each file.
# 2. If Galaxy cannot be reached, fall back to the collections bundled in the
#    `ansible` Python package: download its wheel (pinned by version and
#    sha256) with pip and unpack only the collections the files name,
#    checking each version against the requirement.
#
# Usage: tests/quality/install_collections.sh [DEST]
# Prints the collections path on its last line.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -x "$REPO/.venv/bin/python" ]]; then
  PATH="$REPO/.venv/bin:$PATH"
fi
DEST="${1:-$REPO/.cache/collections}"
mkdir -p "$DEST"
REQUIREMENTS=("$REPO/requirements.yml" "$REPO/awx/requirements.yml")

# The `ansible` release that bundles collections for ansible-core 2.19.
BUNDLE_VERSION="12.3.0"
BUNDLE_SHA256="cd156f82fa87f7a899212b0efa9f7ca3a24d609212de9f78428a572eb01e5414"

# check_or_unpack [--unpack WHEEL] FILE...: exit 0 when every collection of the
# requirement FILEs is in DEST at a version that satisfies its requirement.
# With --unpack WHEEL, unpack the missing ones from the wheel first.
check_or_unpack() {
  python - "$DEST" "$@" <<'PY'
import json
import pathlib
import shutil
import sys
import zipfile

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

dest, args = pathlib.Path(sys.argv[1]), sys.argv[2:]
wheel = None
if args[:1] == ["--unpack"]:
    wheel, args = args[1], args[2:]
wanted = [
    dict(item, source=req_file)
    for req_file in map(pathlib.Path, args)
    for item in yaml.safe_load(req_file.read_text())["collections"]
]


def installed_version(root, name):
    manifest = root / "ansible_collections" / name.replace(".", "/") / "MANIFEST.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text())["collection_info"]["version"]


missing = []
for item in wanted:
    name, raw = item["name"], str(item.get("version", "*")).strip()
    raw = "" if raw == "*" else raw
    spec = SpecifierSet(raw if not raw or raw[0] in "<>=!~" else "==" + raw)
    have = installed_version(dest, name)
    if have is not None and Version(have) in spec:
        continue
    if wheel is None:
        missing.append(f"{name} {spec or '(any)'} (installed: {have or 'none'})")
        continue
    prefix = f"ansible_collections/{name.replace('.', '/')}/"
    with zipfile.ZipFile(wheel) as zf:
        members = [m for m in zf.namelist() if m.startswith(prefix)]
        if not members:
            sys.exit(f"{wheel} does not contain {name}: install it from Galaxy instead")
        bundled = json.loads(zf.read(prefix + "MANIFEST.json"))["collection_info"]["version"]
        if Version(bundled) not in spec:
            sys.exit(
                f"{name} {bundled} bundled in {pathlib.Path(wheel).name} does not satisfy "
                f"'{spec}' from {item['source']}: change BUNDLE_VERSION in "
                "tests/quality/install_collections.sh or the requirement"
            )
        target = dest / "ansible_collections" / name.replace(".", "/")
        shutil.rmtree(target, ignore_errors=True)
        for member in members:
            zf.extract(member, dest)
    print(f"{name} {bundled} unpacked from {pathlib.Path(wheel).name}")

if missing:
    print("missing or too old: " + ", ".join(missing))
    sys.exit(1)
PY
}

# This checkout as hardway.kubernetes (relative link: survives moving the repo
# when DEST is inside it).
link_self() {
  local parent="$DEST/ansible_collections/hardway"
  mkdir -p "$parent"
  local target="$REPO"
  case "$(cd "$parent" && pwd -P)/" in
    "$(cd "$REPO" && pwd -P)"/*) target="$(python -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$REPO" "$parent")" ;;
  esac
  if [[ "$(readlink "$parent/kubernetes" 2>/dev/null)" != "$target" ]]; then
    rm -rf "$parent/kubernetes"
    ln -s "$target" "$parent/kubernetes"
  fi
}
link_self

if check_or_unpack "${REQUIREMENTS[@]}" >/dev/null; then
  echo "collections from requirements.yml and awx/requirements.yml already in $DEST"
  echo "$DEST"
  exit 0
fi

# Galaxy, for the requirement files whose collections are not all there yet.
galaxy_install() {
  local req
  for req in "${REQUIREMENTS[@]}"; do
    check_or_unpack "$req" >/dev/null && continue
    timeout 300 ansible-galaxy collection install -r "$req" -p "$DEST" --upgrade 2>&1 || return 1
  done
}

if galaxy_install; then
  check_or_unpack "${REQUIREMENTS[@]}"
  echo "$DEST"
  exit 0
fi

echo "Galaxy not reachable: using the collections bundled in ansible==$BUNDLE_VERSION" >&2
WHEEL_DIR="$REPO/.cache/wheels"
mkdir -p "$WHEEL_DIR"
PIN="$(mktemp)"
trap 'rm -f "$PIN"' EXIT
echo "ansible==$BUNDLE_VERSION --hash=sha256:$BUNDLE_SHA256" >"$PIN"
python -m pip download --quiet --no-deps --require-hashes -r "$PIN" -d "$WHEEL_DIR"
check_or_unpack --unpack "$WHEEL_DIR/ansible-$BUNDLE_VERSION-py3-none-any.whl" "${REQUIREMENTS[@]}"
check_or_unpack "${REQUIREMENTS[@]}"
echo "$DEST"
