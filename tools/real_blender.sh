#!/usr/bin/env bash
# Provision a real `blender` binary (>= 4.2) for the tests that need one: the executable
# for `blender -b -P`, a window under Xvfb, real input with xdotool, screenshots.
#
#   tools/real_blender.sh            provision (idempotent) and print the blender command
#   tools/real_blender.sh --check    print the command if one is ready, else exit 1 quietly
#
# Order of preference:
#   1. $BLENDER, if set (an official Blender download, say): used as is. The GUI test then
#      needs Xvfb, xdotool, ImageMagick's `import` and Tesseract on the host.
#   2. Root on a Debian whose own archive offers blender >= 4.2 (Debian 13): apt-get install
#      blender and the X tools; the command is the host's /usr/bin/blender.
#   3. Root on an older Debian (12 has Blender 3.4): debootstrap a minimal Debian 13 root into
#      $SCURVE_REAL_BLENDER_DIR (default: .real-blender/ in this checkout, git-ignored), mirror
#      taken from this machine's apt sources, install Debian's blender, python3-numpy,
#      python3-pil, Xvfb, xdotool, ImageMagick and Tesseract there, and write a wrapper `bin/blender`
#      (and `bin/run CMD...` for the X tools) that enters that root in a private mount
#      namespace with /proc, /sys, /dev, /tmp and the caller's checkout bind-mounted at the
#      same paths. Nothing stays mounted after a command ends.
# A second run finds everything in place and takes well under a second.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
dir="${SCURVE_REAL_BLENDER_DIR:-$here/.real-blender}"
check_only=0
[[ "${1:-}" == "--check" ]] && check_only=1

say() { echo "real_blender: $*" >&2; }

version_ok() {  # "4.3.2" -> is it >= 4.2?
  local v="$1" major minor
  major="${v%%.*}"; minor="${v#*.}"; minor="${minor%%.*}"
  [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || return 1
  (( major > 4 || (major == 4 && minor >= 2) ))
}

if [[ -n "${BLENDER:-}" ]]; then
  if [[ -x "$BLENDER" ]] || command -v "$BLENDER" >/dev/null 2>&1; then
    echo "$BLENDER"; exit 0
  fi
  say "BLENDER=$BLENDER is not an executable"; exit 1
fi

if [[ -x "$dir/bin/blender" && -f "$dir/.ready" ]]; then
  echo "$dir/bin/blender"; exit 0
fi

host_blender_version() {
  command -v blender >/dev/null 2>&1 || return 1
  dpkg-query -W -f='${Version}' blender 2>/dev/null | sed 's/^[0-9]*://; s/[+~-].*//'
}

if v="$(host_blender_version)" && version_ok "$v" && command -v Xvfb >/dev/null \
   && command -v xdotool >/dev/null && command -v import >/dev/null \
   && command -v tesseract >/dev/null; then
  echo "$(command -v blender)"; exit 0
fi

(( check_only )) && exit 1

if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  say "no Blender >= 4.2 found; set BLENDER=/path/to/blender (needs root and apt to provision one)"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Blender and the Python modules the add-on imports; Xvfb, xdotool, ImageMagick (screenshots)
# and Tesseract (the GUI test reads button labels off the screen to find where to click).
pkgs=(blender python3-numpy python3-pil xvfb xdotool imagemagick libgl1-mesa-dri
      xauth fonts-dejavu-core tesseract-ocr tesseract-ocr-eng)

apt_candidate() {
  apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}' | sed 's/^[0-9]*://; s/[+~-].*//'
}

# Debian 13 or later: its own archive has a new enough Blender.
apt-get update -qq >/dev/null 2>&1 || true
if cand="$(apt_candidate blender)" && [[ -n "$cand" && "$cand" != "(none)" ]] \
   && version_ok "$cand"; then
  say "installing Debian's blender $cand on the host"
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  echo "$(command -v blender)"; exit 0
fi

# Older Debian: a Debian 13 (trixie) root beside the checkout.
root="$dir/root"
mirror="${SCURVE_DEBIAN_MIRROR:-}"
if [[ -z "$mirror" ]]; then
  # The machine's own apt sources: deb822 (URIs:) or one-line (deb URL suite ...).
  mirror="$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
            | awk '{print $2}' | grep -v security | grep -i debian | head -n1 || true)"
  if [[ -z "$mirror" ]]; then
    mirror="$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
              | grep -v security | awk '{for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
              | head -n1 || true)"
  fi
fi
[[ -n "$mirror" ]] || { say "no Debian mirror in /etc/apt/sources*; set SCURVE_DEBIAN_MIRROR"; exit 1; }

command -v debootstrap >/dev/null 2>&1 || apt-get install -y -qq debootstrap >/dev/null

mkdir -p "$dir/bin"
if [[ ! -f "$root/.debootstrap-done" ]]; then
  say "debootstrap trixie from $mirror into $root (about 2 minutes)"
  rm -rf "$root"
  debootstrap --variant=minbase trixie "$root" "$mirror" >"$dir/debootstrap.log" 2>&1 \
    || { say "debootstrap failed, see $dir/debootstrap.log"; exit 1; }
  touch "$root/.debootstrap-done"
fi

# The entry: a private mount namespace, so nothing stays mounted when the command ends.
cat >"$dir/bin/run" <<EOF
#!/usr/bin/env bash
# Run a command inside the Debian 13 root made by tools/real_blender.sh.
set -euo pipefail
root="$root"
checkout="$here"
EOF
cat >>"$dir/bin/run" <<'EOF'
cwd="$(pwd)"
binds=(/proc /sys /dev /dev/pts /dev/shm /tmp "$checkout")
top="$(git -C "$cwd" rev-parse --show-toplevel 2>/dev/null || true)"
[[ -n "$top" ]] && binds+=("$top")
binds+=("$cwd")
IFS=: read -r -a extra <<<"${SCURVE_BLENDER_BINDS:-}"
binds+=("${extra[@]}")
exec unshare --mount --propagation private -- /bin/bash -c '
set -e
root="$1"; shift
n="$1"; shift
for ((i = 0; i < n; i++)); do
  src="$1"; shift
  [[ -n "$src" && -e "$src" ]] || continue
  if [[ -d "$src" ]]; then mkdir -p "$root$src"; else mkdir -p "$(dirname "$root$src")"; touch "$root$src"; fi
  mount --rbind "$src" "$root$src" 2>/dev/null || mount --bind "$src" "$root$src"
done
cd_to="$1"; shift
# A clean environment, passing on only what a Blender run needs from the caller: the
# display, the BLENDER_USER_* folders, the project variables.
pass=(HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 TERM="${TERM:-dumb}"
     SCURVE_IN_REAL_BLENDER_ROOT=1)
while IFS="=" read -r name _; do
  case "$name" in
    DISPLAY|CI|PYTHONUNBUFFERED|OPENBLAS_NUM_THREADS|OMP_NUM_THREADS|BLENDER_*|SCURVE_*)
      pass+=("$name=${!name}") ;;
  esac
done < <(env)
exec chroot "$root" /usr/bin/env -i "${pass[@]}" \
  /bin/bash -c "cd \"\$0\" 2>/dev/null || cd /; exec \"\$@\"" "$cd_to" "$@"
' run "$root" "${#binds[@]}" "${binds[@]}" "$cwd" "$@"
EOF
cat >"$dir/bin/blender" <<EOF
#!/usr/bin/env bash
# Debian's Blender inside the Debian 13 root (see tools/real_blender.sh).
exec "$dir/bin/run" /usr/bin/blender "\$@"
EOF
chmod +x "$dir/bin/run" "$dir/bin/blender"

if [[ ! -f "$root/.packages-done" ]]; then
  say "installing blender, numpy, Pillow, Xvfb, xdotool, ImageMagick in the root"
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  "$dir/bin/run" /bin/bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends ${pkgs[*]} >/dev/null" \
    >"$dir/apt.log" 2>&1 || { say "apt-get in the root failed, see $dir/apt.log"; exit 1; }
  "$dir/bin/run" apt-get clean >/dev/null 2>&1 || true
  touch "$root/.packages-done"
fi

ver="$("$dir/bin/blender" --version 2>/dev/null | awk '/^Blender/ {print $2; exit}')"
version_ok "$ver" || { say "the root's blender reports version '$ver' (< 4.2?)"; exit 1; }
touch "$dir/.ready"
say "Blender $ver ready"
echo "$dir/bin/blender"
