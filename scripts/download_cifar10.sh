#!/usr/bin/env bash
# Downloads the CIFAR-10 binary version and unpacks it so that DEST directly
# contains data_batch_1..5.bin, test_batch.bin and batches.meta.txt (the
# layout `signvote --data DEST` and signvote::data::load_cifar10 expect).
#
# Usage: scripts/download_cifar10.sh [DEST]     (default: data/cifar10)
# Needs curl or wget, tar, and md5sum (or macOS md5). Safe to re-run: exits
# early if DEST is already complete; the archive is verified by MD5 before
# anything is unpacked, and files land in DEST only after a full unpack.
set -euo pipefail

readonly URL="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
readonly MD5="c32a1d4ab5d03f1284b67883e8d87530"
readonly FILES=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin
                data_batch_5.bin test_batch.bin batches.meta.txt)
DEST="${1:-data/cifar10}"

die() { echo "download_cifar10: $*" >&2; exit 1; }

complete() {
  local f
  for f in "${FILES[@]}"; do [[ -f "$DEST/$f" ]] || return 1; done
}

if complete; then
  echo "download_cifar10: $DEST already holds CIFAR-10; nothing to do"
  exit 0
fi

mkdir -p "$DEST"
TMP="$(mktemp -d "${DEST%/}/.download.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
ARCHIVE="$TMP/cifar-10-binary.tar.gz"

echo "download_cifar10: fetching $URL"
if command -v curl >/dev/null 2>&1; then
  curl -fL --retry 3 -o "$ARCHIVE" "$URL" || die "curl failed for $URL"
elif command -v wget >/dev/null 2>&1; then
  wget -q -O "$ARCHIVE" "$URL" || die "wget failed for $URL"
else
  die "need curl or wget"
fi

if command -v md5sum >/dev/null 2>&1; then
  got="$(md5sum "$ARCHIVE" | cut -d' ' -f1)"
elif command -v md5 >/dev/null 2>&1; then
  got="$(md5 -q "$ARCHIVE")"
else
  die "need md5sum or md5 to verify the archive"
fi
[[ "$got" == "$MD5" ]] || die "MD5 mismatch for $ARCHIVE: got $got, expected $MD5"

# The archive holds cifar-10-batches-bin/{data_batch_*.bin,test_batch.bin,...}.
tar -xzf "$ARCHIVE" -C "$TMP" || die "cannot unpack $ARCHIVE"
for f in "${FILES[@]}"; do
  [[ -f "$TMP/cifar-10-batches-bin/$f" ]] || die "archive lacks cifar-10-batches-bin/$f"
done
for f in "${FILES[@]}"; do
  mv -f "$TMP/cifar-10-batches-bin/$f" "$DEST/$f"
done
echo "download_cifar10: CIFAR-10 ready in $DEST"
