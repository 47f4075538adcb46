# Shared by scripts/dev and scripts/test (sourced, not run).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Install exactly what uv.lock says, and never re-resolve it.
export UV_FROZEN=1

say() { printf '\033[1;35m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m!!\033[0m %s\n' "$*" >&2; }

# uv installs Python 3.11 and every package from uv.lock; install uv itself if it is missing.
ensure_uv() {
  export PATH="$HOME/.local/bin:$HOME/.cargo/bin:$PATH"
  if command -v uv >/dev/null 2>&1; then
    return
  fi
  say "Installing uv (once)"
  if command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
    # --user only touches this user's site-packages; Debian marks the system Python as
    # externally managed, which this flag acknowledges for that user-level install.
    python3 -m pip install --user --quiet uv \
      || PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --user --quiet uv
  elif command -v curl >/dev/null 2>&1; then
    curl -LsSf https://astral.sh/uv/install.sh | sh
  else
    warn "Cannot install uv: need python3 with pip, or curl. See https://docs.astral.sh/uv/"
    exit 1
  fi
  command -v uv >/dev/null 2>&1 || { warn "uv was installed but is not on PATH"; exit 1; }
}

sync_packages() {
  say "Installing Python packages (uv sync --frozen)"
  uv sync --frozen
}

# The browser tests drive Debian's Chromium (Playwright cannot download its own here).
ensure_chromium() {
  local chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ -x "$chromium" ]; then
    return
  fi
  # CI must run the browser tests, never skip them quietly.
  if [ -n "${CI:-}" ] && [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
    warn "CI: no Chromium at $chromium and no way to install it."
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    warn "No Chromium at $chromium and no apt-get: browser tests will be skipped."
    warn "Install Chromium and set CHROMIUM_PATH to run them."
    return
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo"
    else
      warn "No Chromium at $chromium and no root/sudo to install it: browser tests will be skipped."
      warn "Run: sudo apt-get install -y chromium"
      return
    fi
  fi
  say "Installing Chromium (apt-get install chromium)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}
