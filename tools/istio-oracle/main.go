// Command istio-oracle turns a scenario directory (scenario.yaml plus
// Kubernetes and Istio YAML) into a mesh-doctor snapshot whose Envoy config
// dumps are produced by Istio's own config generator (istiod's code, run
// in-process with fake registries), not written by hand.
//
// Usage:
//
//	istio-oracle [-scenarios DIR] [-out DIR] [-only NAME[,NAME...]]
//
// For every scenario DIR/<name>/ it writes <out>/<name>/snapshot/ (out
// defaults to the scenarios directory itself).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	istiolog "istio.io/istio/pkg/log"
)

func main() {
	scenarios := flag.String("scenarios", "test/scenarios", "directory holding one sub-directory per scenario")
	out := flag.String("out", "", "output root (default: the scenarios directory); snapshots go to <out>/<name>/snapshot")
	only := flag.String("only", "", "comma-separated scenario names to generate (default: all)")
	flag.StringVar(&bootstrapTemplate, "bootstrap-template", "", "Istio's Envoy bootstrap template (tools/packaging/common/envoy_bootstrap.json in the istio.io/istio module)")
	verbose := flag.Bool("v", false, "keep istiod's info logs")
	flag.Var(&meshOverrides, "mesh-set", "KEY=VALUE: a mesh config field set on top of every scenario's `mesh:` (repeatable; the mesh lab sets accessLogFile=/dev/stdout so Istio generates its own access-log config)")
	flag.Parse()

	if !*verbose {
		for _, s := range istiolog.Scopes() {
			s.SetOutputLevel(istiolog.NoneLevel)
		}
	}

	if *out == "" {
		*out = *scenarios
	}
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}

	entries, err := os.ReadDir(*scenarios)
	if err != nil {
		fatalf("reading scenarios: %v", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(*scenarios, e.Name(), "scenario.yaml")); err != nil {
			continue
		}
		if len(want) > 0 && !want[e.Name()] {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if len(names) == 0 {
		fatalf("no scenarios found under %s", *scenarios)
	}

	failed := 0
	for _, name := range names {
		dir := filepath.Join(*scenarios, name)
		dst := filepath.Join(*out, name, "snapshot")
		if err := generate(dir, dst); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", name, err)
			failed++
			continue
		}
		fmt.Fprintf(os.Stderr, "ok   %s\n", name)
	}
	if failed > 0 {
		fatalf("%d scenario(s) failed", failed)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "istio-oracle: "+format+"\n", args...)
	os.Exit(1)
}
