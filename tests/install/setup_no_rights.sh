#!/usr/bin/env bash
# setup_no_rights.sh SETUP_SH: scripts/setup.sh run as 'nobody' (no root, no
# sudo) with a package that is missing must print one line naming it and the
# install command, and exit non-zero. The script is copied to a temp folder
# first: the checkout may sit where 'nobody' cannot read (/root).
set -euo pipefail
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
  echo "Skipped: needs root and setpriv to run as nobody"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/scripts"
cp "$1" "$tmp/scripts/setup.sh"
chmod -R a+rX "$tmp"
rc=0
out=$(cd /tmp && setpriv --reuid=nobody --regid=nogroup --clear-groups \
  env SIGNVOTE_EXTRA_PACKAGES=signvote-no-such-package "$tmp/scripts/setup.sh" 2>&1) || rc=$?
echo "$out"
echo "exit status: $rc"
[ "$rc" -ne 0 ] || { echo "FAIL: expected a non-zero exit"; exit 1; }
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || { echo "FAIL: expected one line"; exit 1; }
grep -q "missing Debian packages: signvote-no-such-package.*apt-get install" <<<"$out" ||
  { echo "FAIL: the line does not name the package and the command"; exit 1; }
echo PASS
