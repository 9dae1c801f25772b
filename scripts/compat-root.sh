# Sourced by ./sweep and ./test.sh. TorchSharp 0.107 needs libstdc++ with GLIBCXX_3.4.32 (GCC 13);
# Debian 12 stops at 3.4.30. On such hosts the calling script re-executes itself inside a Debian 13 root
# (made once with debootstrap, cached outside the repository), in a private mount namespace so that
# concurrent commands never disturb each other and nothing needs cleaning up. See README "Debian 13 root".

SWEEP_ROOT_DIR="${SWEEP_ROOT_DIR:-/var/cache/sweep/debian13}"
# What a sweep needs inside the root: .NET's own libraries and libtorch's OpenMP. Nothing else, so that a user's first
# `./sweep run` on a fresh machine waits only for these.
SWEEP_ROOT_PACKAGES="libicu76,libssl3t64,ca-certificates,libstdc++6,libgomp1"
# What the tests run as processes besides (./test.sh sets SWEEP_ROOT_EXTRA to it before entering the root):
# redis-server for the cluster tests, kubectl, node and npm for the Kubernetes manifest tests, python3 for the Python
# client's tests, chromium and a font for the dashboard's browser test.
SWEEP_TEST_PACKAGES="redis-server,procps,kubernetes-client,nodejs,npm,python3,chromium,fonts-dejavu-core"
SWEEP_ROOT_EXTRA="${SWEEP_ROOT_EXTRA:-}"
# One line per package installed in the root; the root is ready for a caller when every package it asks for is listed.
SWEEP_ROOT_MARKER="$SWEEP_ROOT_DIR/.sweep-root-packages"

sweep_host_libstdcxx_ok() {
  local lib
  for lib in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
    [ -e "$lib" ] || continue
    grep -q -a 'GLIBCXX_3\.4\.32' "$lib" && return 0
    return 1
  done
  return 1
}

# The packages this caller needs (the base and SWEEP_ROOT_EXTRA) that the root does not list yet.
sweep_root_missing() {
  local p
  # A root made by an earlier release named its whole package set in one line.
  if [ ! -f "$SWEEP_ROOT_MARKER" ] && [ -f "$SWEEP_ROOT_DIR/.sweep-root-ready" ]; then
    sed -n 's/^packages=//p' "$SWEEP_ROOT_DIR/.sweep-root-ready" | tr ',' '\n' >"$SWEEP_ROOT_MARKER" 2>/dev/null || true
  fi
  for p in ${SWEEP_ROOT_PACKAGES//,/ } ${SWEEP_ROOT_EXTRA//,/ }; do
    [ -f "$SWEEP_ROOT_MARKER" ] && grep -qxF "$p" "$SWEEP_ROOT_MARKER" && continue
    echo "$p"
  done
}

sweep_root_ensure() {
  [ -z "$(sweep_root_missing)" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "sweep: this host's libstdc++ is too old for TorchSharp and making the Debian 13 root needs root (see README)" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$SWEEP_ROOT_DIR")"
  exec 9>"$(dirname "$SWEEP_ROOT_DIR")/.lock"
  flock 9
  # Another process may have finished it while we waited for the lock.
  local missing
  missing="$(sweep_root_missing | tr '\n' ' ')"
  if [ -z "${missing// /}" ]; then exec 9>&-; return 0; fi
  if [ ! -f "$SWEEP_ROOT_MARKER" ]; then
    echo "sweep: creating the Debian 13 root at $SWEEP_ROOT_DIR (once, about a minute)" >&2
    if ! command -v debootstrap >/dev/null 2>&1; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap) >/dev/null 2>&1
    fi
    rm -rf "$SWEEP_ROOT_DIR"
    local log="$(dirname "$SWEEP_ROOT_DIR")/debootstrap.log"
    # Only a minimal base here: debootstrap cannot resolve deep dependency trees (npm's), apt-get below can.
    if ! debootstrap --variant=minbase --include=ca-certificates trixie "$SWEEP_ROOT_DIR" \
         http://deb.debian.org/debian >"$log" 2>&1; then
      echo "sweep: debootstrap failed; see $log" >&2
      tail -n 5 "$log" >&2
      exit 1
    fi
  else
    echo "sweep: adding to the Debian 13 root at $SWEEP_ROOT_DIR: $missing" >&2
  fi
  cp /etc/resolv.conf "$SWEEP_ROOT_DIR/etc/resolv.conf"
  if ! unshare --mount --propagation private /bin/bash -c '
      set -e; r="$1"; shift
      mount -t proc proc "$r/proc"; mount --rbind /dev "$r/dev"
      chroot "$r" /usr/bin/env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        bash -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $*" ' _ \
      "$SWEEP_ROOT_DIR" $missing >"$(dirname "$SWEEP_ROOT_DIR")/root-packages.log" 2>&1; then
    echo "sweep: installing packages into the Debian 13 root failed; see $(dirname "$SWEEP_ROOT_DIR")/root-packages.log" >&2
    tail -n 5 "$(dirname "$SWEEP_ROOT_DIR")/root-packages.log" >&2
    exit 1
  fi
  local p
  for p in $missing; do echo "$p"; done >>"$SWEEP_ROOT_MARKER"
  exec 9>&-
}

# Re-executes "$@" inside the root when the host needs it; returns (and the caller goes on) otherwise.
# Usage: sweep_compat_exec REPO_DIR command args...
sweep_compat_exec() {
  local repo="$1"; shift
  if [ -n "${SWEEP_IN_ROOT:-}" ] || [ -n "${SWEEP_NO_ROOT:-}" ] || sweep_host_libstdcxx_ok; then return 0; fi
  sweep_root_ensure
  local dotnet_dir
  dotnet_dir="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  exec unshare --mount --propagation private /bin/bash -c '
    set -e
    r="$1"; dn="$2"; repo="$3"; cwd="$4"; shift 4
    mount -t proc proc "$r/proc"
    mount --rbind /dev "$r/dev"
    mount --rbind /sys "$r/sys" 2>/dev/null || true
    cp /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
    cp /etc/hosts "$r/etc/hosts" 2>/dev/null || true
    # The host may trust certificate authorities that Debian does not ship (a registry proxy of this network): NuGet
    # inside the root must trust what the host trusts, so the host bundle stands in for the root bundle meanwhile.
    h=/etc/ssl/certs/ca-certificates.crt
    { [ -f "$h" ] && [ -f "$r$h" ] && mount --bind -o ro "$h" "$r$h"; } || true
    mkdir -p "$r$dn"; mount --bind "$dn" "$r$dn"
    for d in /root /home /tmp /opt "$repo" "$cwd"; do
      [ -d "$d" ] || continue
      mkdir -p "$r$d"; mount --rbind "$d" "$r$d"
    done
    exec chroot "$r" /usr/bin/env SWEEP_IN_ROOT=1 HOME="${HOME:-/root}" \
      PATH="$dn:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" DOTNET_ROOT="$dn" \
      /bin/bash -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
  ' _ "$SWEEP_ROOT_DIR" "$dotnet_dir" "$repo" "$PWD" "$@"
}
