#!/usr/bin/env bash
# Make a local stand-in for the official `python:3.11-slim` image, for machines that reach
# Debian's packages and the Python package index but no image registry.
#
#   sudo scripts/make-local-base.sh            # builds and tags python:3.11-slim
#
# What it does:
#   1. debootstraps a minimal Debian bookworm root file system with python3, python3-venv and
#      python3-pip, from the same Debian mirror apt uses on this machine (DEBIAN_MIRROR overrides);
#   2. copies this machine's CA bundle into it, and a pip.conf with this machine's pip index
#      settings, so `pip` inside a build reaches the same package index as `pip` here;
#   3. shapes it like the official image: `python`, `python3`, `pip`, `pip3` in /usr/local/bin,
#      no EXTERNALLY-MANAGED marker, no system tz database (the official slim images cannot be
#      relied on for /usr/share/zoneinfo, so the dlquiz image must bring its own: PyPI tzdata);
#   4. `docker import`s it with the official image's PATH, LANG and CMD, tagged BASE_TAG.
#
# Needs root, debootstrap and a running Docker engine. Nothing here is used by CI.
# Environment: BASE_TAG (default python:3.11-slim), DEBIAN_MIRROR, SUITE (default bookworm),
# ROOTFS (default /var/tmp/dlquiz-local-base/rootfs; reused when it is already complete).
set -euo pipefail

BASE_TAG="${BASE_TAG:-python:3.11-slim}"
SUITE="${SUITE:-bookworm}"
ROOTFS="${ROOTFS:-/var/tmp/dlquiz-local-base/rootfs}"

die() { echo "make-local-base: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap needs it)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"
command -v docker >/dev/null || die "docker is missing: apt-get install -y docker.io"
docker info >/dev/null 2>&1 || die "no Docker engine answers: start dockerd first"

# --- 1. the Debian mirror apt uses here ------------------------------------------------------
mirror_from_apt() {
    local f
    # deb822 sources (URIs: …) first, then one-line sources (deb URL suite …).
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '
            /^[[:space:]]*$/ { if (uri != "" && suites ~ /(^| )'"$SUITE"'( |$)/) { print uri; exit } uri=""; suites="" }
            /^URIs:/ { uri=$2 }
            /^Suites:/ { $1=""; suites=$0 " " }
            END { if (uri != "" && suites ~ /(^| )'"$SUITE"'( |$)/) print uri }
        ' "$f" | head -n1
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" && $3 == "'"$SUITE"'" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f"
    done
}
MIRROR="${DEBIAN_MIRROR:-$(mirror_from_apt | head -n1)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
echo "make-local-base: Debian mirror $MIRROR, suite $SUITE, root fs $ROOTFS"

# --- 2. debootstrap ----------------------------------------------------------------------------
if [ -x "$ROOTFS/usr/bin/python3" ] && [ -f "$ROOTFS/.dlquiz-base-complete" ]; then
    echo "make-local-base: reusing $ROOTFS"
else
    rm -rf "$ROOTFS"
    mkdir -p "$ROOTFS"
    # minbase: Priority required only, like the official slim images; tzdata left out on purpose.
    debootstrap --variant=minbase --exclude=tzdata \
        --include=python3,python3-venv,python3-pip,ca-certificates \
        "$SUITE" "$ROOTFS" "$MIRROR"
    touch "$ROOTFS/.dlquiz-base-complete"
fi

# --- 3. certificates and pip's index -------------------------------------------------------
# The package index is reached through this machine's certificate chain.
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"

# This machine's pip settings (files and PIP_* variables, as `pip config list` shows them),
# keeping what also works inside a container: network indexes, trusted hosts, timeouts, and the
# CA bundle (now at the same path inside). Local folders and file:// indexes exist only on this
# machine and are left out, with a note.
PIP_CONFIG_TEXT="$(python3 -m pip config list 2>/dev/null || true)" \
python3 - "$ROOTFS/etc/pip.conf" <<'PY'
import os, re, sys
text = os.environ["PIP_CONFIG_TEXT"]
keep = {"index-url", "extra-index-url", "trusted-host", "cert", "timeout", "default-timeout",
        "retries", "proxy", "disable-pip-version-check"}
settings = {}
for line in text.splitlines():
    m = re.match(r"^([^.]*)\.([a-z-]+)='(.*)'$", line.strip())
    if not m:
        continue
    scope, key, value = m.groups()
    key = "timeout" if key == "default-timeout" else key
    if key not in keep:
        print(f"make-local-base: pip {key}={value!r} left out (only meaningful on this machine)")
        continue
    if key in ("index-url", "extra-index-url"):
        urls = [u for u in value.split() if not u.startswith("file:") and not u.startswith("/")]
        for u in set(value.split()) - set(urls):
            print(f"make-local-base: pip {key} {u} left out (a folder of this machine)")
        if not urls:
            continue
        value = " ".join(urls)
    settings[key] = value  # later scopes (site, env) override earlier ones, as in pip
lines = ["[global]"] + [f"{k} = {v}" for k, v in sorted(settings.items())]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
print("make-local-base: pip.conf in the base:\n  " + "\n  ".join(lines))
if "index-url" not in settings:
    print("make-local-base: no index-url set here: pip uses the default index, as on this machine")
PY

# --- 4. the official image's layout ----------------------------------------------------------
# The official image has python, python3, pip, pip3 in /usr/local/bin and no PEP 668 marker.
mkdir -p "$ROOTFS/usr/local/bin"
ln -sf /usr/bin/python3 "$ROOTFS/usr/local/bin/python3"
ln -sf /usr/bin/python3 "$ROOTFS/usr/local/bin/python"
ln -sf /usr/bin/pip3 "$ROOTFS/usr/local/bin/pip3"
ln -sf /usr/bin/pip3 "$ROOTFS/usr/local/bin/pip"
rm -f "$ROOTFS"/usr/lib/python3.*/EXTERNALLY-MANAGED
rm -rf "$ROOTFS/usr/share/zoneinfo"
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*

# --- 5. import ----------------------------------------------------------------------------------
tar --numeric-owner -C "$ROOTFS" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    - "$BASE_TAG"
docker run --rm "$BASE_TAG" sh -c 'python --version && pip --version'
echo "make-local-base: tagged $BASE_TAG"
