#!/usr/bin/env bash
# Runs `ansible-test sanity` on the collection without Docker.
#
# ansible-test resolves symlinks and insists on a real .../ansible_collections/vipctl/farm path, so
# the repository's .collections symlink is not accepted: the tracked (and new, not ignored) files are
# copied into a temporary tree of that shape and tested there.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ansible_test="${ANSIBLE_TEST:-$repo/.venv/bin/ansible-test}"
python_version="${SANITY_PYTHON:-3.11}"

work="$(mktemp -d "${TMPDIR:-/tmp}/vipctl-sanity.XXXXXX")"
trap 'rm -rf "$work"' EXIT
collection="$work/ansible_collections/vipctl/farm"
mkdir -p "$collection"

# The .collections symlink points back at the repository root; copied, it would loop.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) \
    | grep -zv '^\.collections/' \
    | (cd "$repo" && tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null) \
    | tar -xf - -C "$collection"

# Every sanity virtual environment is bootstrapped with a get-pip.py that ansible-test downloads
# from ci-files.testing.ansible.com. Where that host is unreachable, a local stand-in goes in the
# cache ansible-test reads first (a real cached script is left alone).
pip_version="$("$repo/.venv/bin/python" - <<'PY'
import pathlib, re, ansible_test
source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", source.read_text()).group(1))
PY
)"
get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [[ ! -f "$get_pip" ]]; then
    mkdir -p "$(dirname "$get_pip")"
    cp "$repo/tests/sanity/get_pip_offline.py" "$get_pip"
fi

# Excluded: python/ is the vipctl package (own ruff + mypy strict lint and pytest suite, shipped as a
# library the action plugins import, not as plugin content) and bench/ is not shipped (build_ignore).
# Skipped: pslint needs pwsh with PSScriptAnalyzer and shellcheck needs the shellcheck binary;
# neither is installed here and both are otherwise only available in ansible-test's containers.
cd "$collection"
"$ansible_test" sanity --local --python "$python_version" --color no \
    --exclude python/ --exclude bench/ \
    --skip-test pslint --skip-test shellcheck \
    "$@"
