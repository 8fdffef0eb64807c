#!/usr/bin/env bash
# Regenerate every oracle scenario, and the istioctl goldens.
#
#   bash tools/istio-oracle/generate.sh            # all scenarios, in place (what `npm run fixtures` runs)
#   ONLY=seed003-se-no-addresses-tcp bash tools/istio-oracle/generate.sh
#   OUT_ROOT=/tmp/x bash tools/istio-oracle/generate.sh   # write <OUT_ROOT>/<name>/{snapshot,expected} instead
#
# Needs Go (see go.mod for the version). Builds bin/istio-oracle and bin/istioctl
# (both gitignored) from the pinned istio.io/istio module; the first build
# downloads the module graph and takes ~10 minutes on 2 cores.
#
# Env: OUT_ROOT (default: test/scenarios, in place), ONLY (comma-separated names),
#      SKIP_ISTIOCTL=1 (snapshots only), SKIP_REAL_DUMPS=1 (skip test/real-dumps-expected),
#      REAL_DUMPS (default: ../shared/data/real-config-dumps relative to the repo root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
scenarios="$root/test/scenarios"
out_root="${OUT_ROOT:-$scenarios}"
real_dumps="${REAL_DUMPS:-$root/../shared/data/real-config-dumps}"

command -v go >/dev/null || { echo "generate.sh: go is not on PATH" >&2; exit 1; }

make -s -C "$here" oracle
if [[ "${SKIP_ISTIOCTL:-}" != 1 ]]; then
  make -s -C "$here" istioctl
fi

# Istio's Envoy bootstrap template, from the same pinned module.
istio_dir="$(cd "$here" && go list -m -f '{{.Dir}}' istio.io/istio)"
template="$istio_dir/tools/packaging/common/envoy_bootstrap.json"

cd "$root"
"$here/bin/istio-oracle" -scenarios "$scenarios" -out "$out_root" -bootstrap-template "$template" ${ONLY:+-only "$ONLY"}

[[ "${SKIP_ISTIOCTL:-}" == 1 ]] && exit 0
istioctl="$here/bin/istioctl"

# istioctl's own table for every generated proxy, and istioctl analyze per scenario.
for dir in "$scenarios"/*/; do
  name="$(basename "$dir")"
  [[ -f "$dir/scenario.yaml" ]] || continue
  if [[ -n "${ONLY:-}" && ",$ONLY," != *",$name,"* ]]; then continue; fi
  snap="$out_root/$name/snapshot"
  expected="$out_root/$name/expected"
  rm -rf "$expected"
  mkdir -p "$expected"
  while IFS= read -r dump; do
    pod="$(basename "$(dirname "$dump")")"
    ns="$(basename "$(dirname "$(dirname "$dump")")")"
    "$istioctl" proxy-config listeners --file "$dump" > "$expected/$ns.$pod.istioctl-listeners.txt"
  done < <(find "$snap/proxies" -name 'config_dump?include_eds' | LC_ALL=C sort)
  # analyze reads the scenario's own YAML (not scenario.yaml); run from the scenario
  # directory so the output names files relatively. Its exit code is part of the record.
  mapfile -t files < <(cd "$dir" && ls -1 *.yaml | grep -vx scenario.yaml | LC_ALL=C sort)
  if ((${#files[@]})); then
    set +e
    analysis="$(cd "$dir" && "$istioctl" analyze --use-kube=false --all-namespaces --color=false "${files[@]}" 2>&1)"
    rc=$?
    set -e
    {
      echo "\$ istioctl analyze --use-kube=false --all-namespaces ${files[*]}"
      echo "$analysis"
      echo "(exit code $rc)"
    } > "$expected/istioctl-analyze.txt"
  fi
done

# Real dumps from shared/data: commit only istioctl's table, never the dumps.
if [[ "${SKIP_REAL_DUMPS:-}" != 1 && -z "${ONLY:-}" && -d "$real_dumps" ]]; then
  if [[ "$out_root" == "$scenarios" ]]; then real_out="$root/test/real-dumps-expected"; else real_out="$out_root/real-dumps-expected"; fi
  mkdir -p "$real_out"
  for dump in "$real_dumps"/*.json; do
    stem="$(basename "$dump" .json)"
    "$istioctl" proxy-config listeners --file "$dump" > "$real_out/$stem.istioctl-listeners.txt"
  done
fi
echo "generate.sh: done ($out_root)" >&2
