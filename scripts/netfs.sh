#!/usr/bin/env bash
# Real network filesystems on this machine, for the end-to-end tests and for
# measuring what each guarantees (docs/SCALING.md). Everything stays on this
# host: GlusterFS on this host's own name, an SSH server on 127.0.0.1.
#
#   scripts/netfs.sh gluster-up DIR    one-brick GlusterFS volume (brick DIR/brick),
#                                      mounted twice: prints DIR/mnt-a and DIR/mnt-b
#   scripts/netfs.sh gluster-down DIR  unmounts both, stops and deletes the volume,
#                                      stops glusterd if this script started it
#   scripts/netfs.sh sshfs-up DIR      an sshd of its own on 127.0.0.1 exporting
#                                      DIR/export, mounted twice with sshfs: prints
#                                      DIR/mnt-a and DIR/mnt-b
#   scripts/netfs.sh sshfs-down DIR    unmounts both, stops that sshd, removes its keys
#
# Needs root, /dev/fuse and Debian's packages (installed when missing:
# glusterfs-server + glusterfs-client, openssh-server + sshfs). No systemd is
# assumed: the daemons are started directly. Every "up" is idempotent (up
# twice prints the same mounts) and cleans up after itself when it fails half
# way; every "down" is idempotent and tolerates a half-made setup. Only the
# two mount points go to stdout; progress and errors go to stderr.
set -euo pipefail

# State that outlives one DIR: whether this script started glusterd (a
# glusterd is shared by every volume on the host).
RUN_DIR="${CJP_NETFS_RUN_DIR:-/run/cjp-netfs}"
GLUSTERD_PID="$RUN_DIR/glusterd.pid"

say() { printf 'netfs: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

usage() {
  sed -n '5,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------- common

check_host() {
  [ "$(id -u)" = 0 ] || die "must run as root (mounting FUSE filesystems, starting glusterd/sshd)"
  [ -c /dev/fuse ] || die "/dev/fuse is missing: this kernel or container has no FUSE; load the 'fuse' module or give the container the /dev/fuse device"
}

# apt-get update once per run of this script, and only when something is missing.
APT_UPDATED=0
ensure_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then missing+=("$pkg"); fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
  say "installing ${missing[*]} from Debian's packages"
  if [ "$APT_UPDATED" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
  # Package scripts do not start services here (no init system; policy-rc.d blocks them).
  # Another apt on the machine (a parallel test, another session) holds the lock: wait for it.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" >&2 ||
    die "apt-get install ${missing[*]} failed"
}

abs_dir() {
  mkdir -p "$1"
  (cd "$1" && pwd -P)
}

is_mounted() { mountpoint -q "$1" 2>/dev/null; }

unmount() {
  local dir="$1"
  is_mounted "$dir" || return 0
  local tool
  for tool in fusermount3 fusermount; do
    if command -v "$tool" >/dev/null && "$tool" -u "$dir" 2>/dev/null; then return 0; fi
  done
  umount "$dir" 2>/dev/null && return 0
  # Busy (a process still has a file open there): detach it now, it goes when released.
  say "unmounting $dir lazily (busy)"
  umount -l "$dir" || say "could not unmount $dir"
}

# Waits until "$@" succeeds, up to $1 seconds (the rest is the command).
retry_for() {
  local seconds="$1"
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.3
  done
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Stops one process by its id: SIGTERM, then SIGKILL after 10 s.
stop_pid() {
  local pid="$1"
  pid_alive "$pid" || return 0
  kill "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 100); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  say "process $pid did not stop on SIGTERM; sending SIGKILL"
  kill -9 "$pid" 2>/dev/null || true
}

print_mounts() { printf '%s\n%s\n' "$1/mnt-a" "$1/mnt-b"; }

# ---------------------------------------------------------------- GlusterFS

gl() { gluster --mode=script "$@"; }

glusterd_running() { gl volume list >/dev/null 2>&1; }

start_glusterd() {
  glusterd_running && return 0
  mkdir -p "$RUN_DIR"
  local bin
  bin="$(command -v glusterd || echo /usr/sbin/glusterd)"
  [ -x "$bin" ] || die "glusterd not found after installing glusterfs-server"
  say "starting glusterd"
  "$bin" --pid-file="$GLUSTERD_PID" >&2 || die "glusterd failed to start (see /var/log/glusterfs/glusterd.log)"
  retry_for 30 glusterd_running || die "glusterd did not answer within 30 s (see /var/log/glusterfs/glusterd.log)"
}

stop_glusterd_if_ours() {
  [ -f "$GLUSTERD_PID" ] || return 0
  # glusterd serves every volume on the host: keep it while any remains.
  if glusterd_running && ! gl volume list 2>&1 | grep -q '^No volumes present'; then
    say "leaving glusterd running: other volumes remain"
    return 0
  fi
  say "stopping glusterd (started by this script)"
  stop_pid "$(cat "$GLUSTERD_PID" 2>/dev/null || true)"
  rm -f "$GLUSTERD_PID"
}

brick_online() { gl volume status "$1" --xml 2>/dev/null | tr -d ' \n' | grep -qE '<node><hostname>[^<]*</hostname><path>/[^<]*</path><peerid>[^<]*</peerid><status>1</status>'; }

gluster_up() {
  check_host
  local dir
  dir="$(abs_dir "$1")"
  local state="$dir/.netfs"
  if [ -f "$state/volume" ] && is_mounted "$dir/mnt-a" && is_mounted "$dir/mnt-b"; then
    print_mounts "$dir"
    return 0
  fi
  # A half-made earlier attempt: clear it first.
  gluster_down "$dir"
  trap 'rc=$?; if [ "$rc" -ne 0 ]; then say "gluster-up failed; cleaning up"; gluster_down "'"$dir"'" || true; fi' EXIT

  ensure_packages glusterfs-server glusterfs-client
  command -v mount.glusterfs >/dev/null || [ -x /sbin/mount.glusterfs ] || die "mount.glusterfs is missing (package glusterfs-client)"
  local host
  host="$(hostname)"
  getent hosts "$host" >/dev/null || die "this host's name '$host' does not resolve (add it to /etc/hosts): GlusterFS addresses the brick by it"
  start_glusterd

  mkdir -p "$state" "$dir/brick" "$dir/mnt-a" "$dir/mnt-b"
  local volume
  volume="cjp_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  # Written before the volume exists, so that a failure half way can still delete it.
  echo "$volume" >"$state/volume"
  say "creating volume $volume on $host:$dir/brick"
  gl volume create "$volume" transport tcp "$host:$dir/brick" force >&2 || die "gluster volume create $volume failed"
  gl volume start "$volume" >&2 || die "gluster volume start $volume failed"
  retry_for 30 brick_online "$volume" || die "the brick of $volume did not come online within 30 s: $(gl volume status "$volume" 2>&1 | tr '\n' ' ')"
  local m
  for m in mnt-a mnt-b; do
    mount -t glusterfs "$host:/$volume" "$dir/$m" >&2 || die "mount -t glusterfs $host:/$volume $dir/$m failed (see /var/log/glusterfs/)"
    retry_for 15 is_mounted "$dir/$m" || die "$dir/$m is not a mount point after mounting $volume"
    retry_for 15 stat "$dir/$m/." || die "$dir/$m does not answer after mounting $volume"
  done
  trap - EXIT
  print_mounts "$dir"
}

gluster_down() {
  local dir
  dir="$(abs_dir "$1")"
  local state="$dir/.netfs"
  unmount "$dir/mnt-a"
  unmount "$dir/mnt-b"
  if [ -f "$state/volume" ]; then
    local volume
    volume="$(cat "$state/volume")"
    if command -v gluster >/dev/null && glusterd_running; then
      if gl volume info "$volume" >/dev/null 2>&1; then
        say "stopping and deleting volume $volume"
        gl volume stop "$volume" force >&2 || say "gluster volume stop $volume failed"
        gl volume delete "$volume" >&2 || say "gluster volume delete $volume failed"
      fi
    fi
    rm -f "$state/volume"
  fi
  if command -v gluster >/dev/null; then stop_glusterd_if_ours; fi
  rm -rf "$dir/brick" "$state"
  rmdir "$dir/mnt-a" "$dir/mnt-b" 2>/dev/null || true
}

# ---------------------------------------------------------------- sshfs

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local i p
  for i in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    if ! port_in_use "$p"; then
      echo "$p"
      return 0
    fi
  done
  die "no free TCP port found on 127.0.0.1"
}

# Every sshd reading DIR's config (one whose pid file was not written yet included).
stop_sshds_of() {
  local state="$1" pid
  for pid in $(pgrep -f -- "-f $state/sshd_config" 2>/dev/null || true); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$state/sshd_config" && stop_pid "$pid"
  done
  return 0
}

sshd_ours_running() {
  local state="$1"
  [ -f "$state/sshd.pid" ] && pid_alive "$(cat "$state/sshd.pid")"
}

write_sshd_config() {
  local state="$1" port="$2"
  cat >"$state/sshd_config" <<EOF
# An sshd of scripts/netfs.sh, for tests only: loopback, root by key only.
ListenAddress 127.0.0.1
Port $port
HostKey $state/host_key
PidFile $state/sshd.pid
AuthorizedKeysFile $state/authorized_keys
AllowUsers root
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The keys live under a world-writable /tmp: sshd's ownership checks would refuse them.
StrictModes no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
Subsystem sftp internal-sftp
EOF
}

sshfs_up() {
  check_host
  local dir
  dir="$(abs_dir "$1")"
  local state="$dir/.netfs"
  if sshd_ours_running "$state" && is_mounted "$dir/mnt-a" && is_mounted "$dir/mnt-b"; then
    print_mounts "$dir"
    return 0
  fi
  sshfs_down "$dir"
  trap 'rc=$?; if [ "$rc" -ne 0 ]; then say "sshfs-up failed; cleaning up"; sshfs_down "'"$dir"'" || true; fi' EXIT

  ensure_packages openssh-server openssh-client sshfs
  command -v sshfs >/dev/null || die "sshfs is missing after installing it"
  local sshd=/usr/sbin/sshd
  [ -x "$sshd" ] || die "$sshd is missing (package openssh-server)"

  mkdir -p "$state" "$dir/export" "$dir/mnt-a" "$dir/mnt-b"
  chmod 700 "$state"
  ssh-keygen -q -t ed25519 -N '' -C "cjp-netfs host" -f "$state/host_key" >&2
  ssh-keygen -q -t ed25519 -N '' -C "cjp-netfs client" -f "$state/client_key" >&2
  cp "$state/client_key.pub" "$state/authorized_keys"
  # sshd's privilege-separation directory (the system's sshd creates it too).
  mkdir -p /run/sshd
  chmod 755 /run/sshd

  local port attempt started=0
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    write_sshd_config "$state" "$port"
    "$sshd" -t -f "$state/sshd_config" >&2 || die "sshd rejects its configuration $state/sshd_config"
    # The port can be taken between the check and the bind: try another. sshd listens
    # before it writes its pid file, so the pid file is waited for too.
    if "$sshd" -f "$state/sshd_config" -E "$state/sshd.log" && retry_for 10 port_in_use "$port" && retry_for 10 sshd_ours_running "$state"; then
      started=1
      break
    fi
    [ -f "$state/sshd.pid" ] && stop_pid "$(cat "$state/sshd.pid")"
    stop_sshds_of "$state"
    say "sshd did not start on port $port (attempt $attempt): $(tail -n 3 "$state/sshd.log" 2>/dev/null | tr '\n' ' ')"
  done
  [ "$started" = 1 ] || die "could not start sshd on 127.0.0.1 (see $state/sshd.log)"
  echo "$port" >"$state/port"
  say "sshd (pid $(cat "$state/sshd.pid")) on 127.0.0.1:$port exporting $dir/export"

  local options="StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,IdentityFile=$state/client_key,port=$port,BatchMode=yes,LogLevel=ERROR,allow_other"
  local m
  for m in mnt-a mnt-b; do
    sshfs -o "$options" "root@127.0.0.1:$dir/export" "$dir/$m" >&2 ||
      die "sshfs root@127.0.0.1:$dir/export $dir/$m failed (sshd log: $(tail -n 5 "$state/sshd.log" 2>/dev/null | tr '\n' ' '))"
    retry_for 15 is_mounted "$dir/$m" || die "$dir/$m is not a mount point after sshfs"
  done
  trap - EXIT
  print_mounts "$dir"
}

sshfs_down() {
  local dir
  dir="$(abs_dir "$1")"
  local state="$dir/.netfs"
  unmount "$dir/mnt-a"
  unmount "$dir/mnt-b"
  if [ -f "$state/sshd.pid" ]; then
    local pid
    pid="$(cat "$state/sshd.pid" 2>/dev/null || true)"
    # Only the sshd this script started for DIR: its pid file is under DIR, and the
    # process must be an sshd reading DIR's config.
    if pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$state/sshd_config"; then
      say "stopping sshd (pid $pid)"
      stop_pid "$pid"
    fi
  fi
  stop_sshds_of "$state"
  rm -rf "$state"
  rmdir "$dir/mnt-a" "$dir/mnt-b" 2>/dev/null || true
}

# ---------------------------------------------------------------- main

[ "$#" -eq 2 ] || usage
case "$1" in
  gluster-up) gluster_up "$2" ;;
  gluster-down) gluster_down "$2" ;;
  sshfs-up) sshfs_up "$2" ;;
  sshfs-down) sshfs_down "$2" ;;
  *) usage ;;
esac
