#!/usr/bin/env bash
# Installs the CloudSense agent as a systemd service, or removes it.
#
#   sudo deploy/install-agent.sh [--binary FILE] [--broker URL] [--no-start]
#   sudo deploy/install-agent.sh --uninstall [--purge]
#   deploy/install-agent.sh --root /tmp/stage ...      # into a staging tree, touching nothing else
#
# What it does, each step only when needed (running it again changes nothing
# that is already right):
#   1. the executable (npm run build:agent) → /usr/local/bin/cloudsense-agent
#   2. the system user and group `cloudsense` (systemd-sysusers, else useradd)
#   3. /etc/cloudsense/agent.yaml from deploy/systemd/agent.yaml, only if there
#      is none: an existing configuration is never overwritten
#   4. the unit → /etc/systemd/system/cloudsense-agent.service
#   5. when systemd runs this system (and --root is /): daemon-reload, then
#      enable --now; an agent already running is restarted if its executable
#      or unit changed
#
# --uninstall stops and disables the service and removes the executable, the
# unit and the sysusers entry; the configuration, the state directory (the
# disk queue may hold telemetry not yet sent) and the user stay unless --purge.
#
# See docs/agent-daemon.md.
set -euo pipefail

readonly UNIT_NAME=cloudsense-agent.service
readonly USER_NAME=cloudsense
readonly BIN_PATH=/usr/local/bin/cloudsense-agent
readonly UNIT_PATH=/etc/systemd/system/${UNIT_NAME}
readonly SYSUSERS_PATH=/usr/lib/sysusers.d/cloudsense-agent.conf
readonly CONFIG_DIR=/etc/cloudsense
readonly CONFIG_PATH=${CONFIG_DIR}/agent.yaml
readonly STATE_DIR=/var/lib/cloudsense
readonly CACHE_DIR=/var/cache/cloudsense

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
binary="${here}/../dist/cloudsense-agent-linux-x64"
root="${DESTDIR:-/}"
broker=""
start=1
action=install
purge=0

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
  printf 'install-agent: %s\n' "$*" >&2
  exit 1
}

say() {
  printf '  %s\n' "$*"
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary) binary="${2:?--binary needs a file}"; shift 2 ;;
    --broker) broker="${2:?--broker needs a URL}"; shift 2 ;;
    --root) root="${2:?--root needs a directory}"; shift 2 ;;
    --no-start) start=0; shift ;;
    --uninstall) action=uninstall; shift ;;
    --purge) purge=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

root="${root%/}"
# A path under the target root: "" is the running system's /.
at() {
  printf '%s%s' "${root}" "$1"
}
on_this_system() {
  [[ -z "${root}" ]]
}
systemd_runs() {
  on_this_system && [[ -d /run/systemd/system ]] && command -v systemctl > /dev/null
}

if on_this_system && [[ "$(id -u)" -ne 0 ]]; then
  die "run as root (sudo), or give --root DIR to stage the files elsewhere"
fi
if [[ -n "${root}" ]]; then
  mkdir -p "${root}"
fi

# Copies $1 to $2 with mode $3 unless $2 already has that content; says which.
# Returns 0 when it wrote the file, 1 when the file was already right.
put_file() {
  local src=$1 dest=$2 mode=$3
  if [[ -f "${dest}" ]] && cmp -s "${src}" "${dest}"; then
    chmod "${mode}" "${dest}"
    say "unchanged ${dest}"
    return 1
  fi
  install -D -m "${mode}" "${src}" "${dest}"
  say "installed ${dest}"
  return 0
}

# The numeric id of the agent's user or group in the target root's files ($1: passwd or group).
id_in_root() {
  awk -F: -v name="${USER_NAME}" '$1 == name { print $3 }' "$(at "/etc/$1")" 2> /dev/null || true
}

ensure_user() {
  mkdir -p "$(dirname "$(at "${SYSUSERS_PATH}")")"
  local entry
  entry=$(mktemp)
  printf 'u %s - "CloudSense agent" %s /usr/sbin/nologin\n' "${USER_NAME}" "${STATE_DIR}" > "${entry}"
  put_file "${entry}" "$(at "${SYSUSERS_PATH}")" 0644 || true
  rm -f "${entry}"
  if [[ -n "$(id_in_root passwd)" ]]; then
    say "user ${USER_NAME} exists"
    return
  fi
  mkdir -p "$(at /etc)"
  if command -v systemd-sysusers > /dev/null; then
    if on_this_system; then
      systemd-sysusers "${SYSUSERS_PATH}"
    else
      systemd-sysusers --root="${root}" "$(at "${SYSUSERS_PATH}")"
    fi
  elif on_this_system; then
    useradd --system --user-group --home-dir "${STATE_DIR}" --no-create-home \
      --shell /usr/sbin/nologin --comment "CloudSense agent" "${USER_NAME}"
  else
    die "neither systemd-sysusers nor a running system to create user ${USER_NAME} in ${root}"
  fi
  [[ -n "$(id_in_root passwd)" ]] || die "user ${USER_NAME} was not created"
  say "created user ${USER_NAME}"
}

# /etc/cloudsense (root, group-readable by the agent) and the agent's directories.
ensure_dirs() {
  local uid gid
  uid=$(id_in_root passwd)
  gid=$(id_in_root group)
  install -d -m 0750 "$(at "${CONFIG_DIR}")"
  install -d -m 0750 "$(at "${STATE_DIR}")"
  install -d -m 0700 "$(at "${CACHE_DIR}")"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown "0:${gid}" "$(at "${CONFIG_DIR}")"
    chown "${uid}:${gid}" "$(at "${STATE_DIR}")" "$(at "${CACHE_DIR}")"
  fi
}

ensure_config() {
  local dest
  dest=$(at "${CONFIG_PATH}")
  if [[ -e "${dest}" ]]; then
    say "kept ${dest} (an existing configuration is never overwritten)"
    return
  fi
  local draft
  draft=$(mktemp)
  cp "${here}/systemd/agent.yaml" "${draft}"
  if [[ -n "${broker}" ]]; then
    [[ "${broker}" =~ ^(mqtt|mqtts|tcp|ssl|ws|wss)://[^[:space:]|]+$ ]] || die "not a broker URL: ${broker}"
    sed -i "s|^  brokerUrl: .*|  brokerUrl: ${broker}|" "${draft}"
  fi
  install -m 0640 "${draft}" "${dest}"
  rm -f "${draft}"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown "0:$(id_in_root group)" "${dest}"
  fi
  say "wrote ${dest}${broker:+ (broker ${broker})}"
}

install_agent() {
  [[ -f "${binary}" && -x "${binary}" ]] ||
    die "no executable at ${binary}: build it with npm run build:agent, or give --binary FILE"
  echo "Installing the CloudSense agent${root:+ into ${root}}:"
  local changed=0
  if put_file "${binary}" "$(at "${BIN_PATH}")" 0755; then changed=1; fi
  ensure_user
  ensure_dirs
  ensure_config
  if put_file "${here}/systemd/${UNIT_NAME}" "$(at "${UNIT_PATH}")" 0644; then changed=1; fi

  if ! systemd_runs; then
    if on_this_system; then
      say "systemd does not run this system: start the agent yourself, e.g."
      say "  runuser -u ${USER_NAME} -- ${BIN_PATH} --config ${CONFIG_PATH} --data-dir ${STATE_DIR}"
    fi
    return
  fi
  systemctl daemon-reload
  if [[ "${start}" -eq 0 ]]; then
    systemctl enable "${UNIT_NAME}"
    say "enabled ${UNIT_NAME} (not started: --no-start)"
    return
  fi
  if [[ "${changed}" -eq 1 ]] && systemctl is-active --quiet "${UNIT_NAME}"; then
    systemctl restart "${UNIT_NAME}"
    say "restarted ${UNIT_NAME} (its executable or unit changed)"
  fi
  systemctl enable --now "${UNIT_NAME}"
  say "enabled and started ${UNIT_NAME}: systemctl status ${UNIT_NAME}"
}

remove_path() {
  if [[ -e "$1" ]]; then
    rm -rf -- "$1"
    say "removed $1"
  fi
}

uninstall_agent() {
  echo "Removing the CloudSense agent${root:+ from ${root}}:"
  if systemd_runs; then
    systemctl disable --now "${UNIT_NAME}" 2> /dev/null || true
  fi
  remove_path "$(at "${UNIT_PATH}")"
  if systemd_runs; then
    systemctl daemon-reload
  fi
  remove_path "$(at "${BIN_PATH}")"
  remove_path "$(at "${SYSUSERS_PATH}")"
  if [[ "${purge}" -eq 0 ]]; then
    say "kept $(at "${CONFIG_DIR}"), $(at "${STATE_DIR}") and user ${USER_NAME} (--purge removes them)"
    return
  fi
  remove_path "$(at "${CONFIG_DIR}")"
  remove_path "$(at "${STATE_DIR}")"
  remove_path "$(at "${CACHE_DIR}")"
  if [[ -n "$(id_in_root passwd)" ]]; then
    if on_this_system; then
      userdel "${USER_NAME}"
    else
      userdel --root "${root}" "${USER_NAME}"
    fi
    say "removed user ${USER_NAME}"
  fi
}

if [[ "${action}" == uninstall ]]; then
  uninstall_agent
else
  install_agent
fi
