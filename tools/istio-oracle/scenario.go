package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Scenario is test/scenarios/<name>/scenario.yaml.
type Scenario struct {
	Description string `json:"description"`
	Provenance  string `json:"provenance"`
	// IstioVersion is the ISTIO_VERSION the proxies report in their node
	// metadata. Default: istioVersionLabel (the version the oracle is built from).
	IstioVersion string `json:"istioVersion,omitempty"`
	// Mesh is merged over Istio's default MeshConfig (same fields as the
	// `mesh` key of the istio ConfigMap).
	Mesh map[string]any `json:"mesh,omitempty"`
	// Proxies are the proxies (sidecars, gateways, waypoints) whose config dumps are generated.
	Proxies []ProxySpec `json:"proxies"`
}

// Proxy kinds a scenario can ask for; each is one of Istio's node types
// (pilot/pkg/model/context.go NodeTypes) and names the first field of the node id.
const (
	kindSidecar  = "sidecar"  // model.SidecarProxy, an injected pod
	kindGateway  = "gateway"  // model.Router, a gateway Deployment's pod (`proxy router`)
	kindWaypoint = "waypoint" // model.Waypoint, an ambient waypoint's pod (`proxy waypoint`)
)

// ProxySpec describes one proxy's pod.
type ProxySpec struct {
	// Kind is sidecar (default), gateway or waypoint.
	Kind           string            `json:"kind,omitempty"`
	Namespace      string            `json:"namespace"`
	Name           string            `json:"name"`
	Labels         map[string]string `json:"labels,omitempty"`
	IP             string            `json:"ip"`
	ServiceAccount string            `json:"serviceAccount,omitempty"`
	// Services the pod is expected to back (by selector). Checked, not used to select.
	Services []string `json:"services,omitempty"`
	// ContainerPorts of the app container (informational, written in the Pod).
	ContainerPorts []int `json:"containerPorts,omitempty"`
	// NodeName written in the Pod (default "node-1").
	NodeName string `json:"nodeName,omitempty"`
	// IdleTimeout is the proxy's ISTIO_META_IDLE_TIMEOUT (proxy.istio.io/config
	// proxyMetadata), e.g. "30s": Istio writes it as the inbound HTTP connection
	// managers' idle_timeout (pilot/pkg/networking/core/listener_builder.go).
	IdleTimeout string `json:"idleTimeout,omitempty"`
}

// doc is one YAML document of the scenario's resource files.
type doc struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	Raw        string         // the document text as written
	Obj        map[string]any // parsed
	File       string
}

func (d doc) isIstio() bool {
	group := d.APIVersion
	if i := strings.Index(group, "/"); i >= 0 {
		group = group[:i]
	} else {
		group = ""
	}
	return strings.HasSuffix(group, "istio.io")
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// loadScenario reads scenario.yaml and every other *.yaml / *.yml file in dir (sorted by name).
func loadScenario(dir string) (*Scenario, []doc, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "scenario.yaml"))
	if err != nil {
		return nil, nil, err
	}
	sc := &Scenario{}
	if err := yaml.UnmarshalStrict(raw, sc); err != nil {
		return nil, nil, fmt.Errorf("scenario.yaml: %v", err)
	}
	if len(sc.Proxies) == 0 {
		return nil, nil, fmt.Errorf("scenario.yaml: no proxies")
	}
	for i, p := range sc.Proxies {
		if p.Namespace == "" || p.Name == "" || p.IP == "" {
			return nil, nil, fmt.Errorf("scenario.yaml: proxies[%d] needs namespace, name and ip", i)
		}
		switch p.Kind {
		case "":
			sc.Proxies[i].Kind = kindSidecar
		case kindSidecar, kindGateway, kindWaypoint:
		default:
			return nil, nil, fmt.Errorf("scenario.yaml: proxies[%d].kind %q: want sidecar, gateway or waypoint", i, p.Kind)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || n == "scenario.yaml" {
			continue
		}
		if strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") {
			files = append(files, n)
		}
	}
	sort.Strings(files)
	var docs []doc
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, nil, err
		}
		for _, part := range docSep.Split(string(b), -1) {
			if strings.TrimSpace(stripComments(part)) == "" {
				continue
			}
			obj := map[string]any{}
			if err := yaml.Unmarshal([]byte(part), &obj); err != nil {
				return nil, nil, fmt.Errorf("%s: %v", f, err)
			}
			d := doc{Raw: strings.Trim(part, "\n") + "\n", Obj: obj, File: f}
			d.APIVersion, _ = obj["apiVersion"].(string)
			d.Kind, _ = obj["kind"].(string)
			if md, ok := obj["metadata"].(map[string]any); ok {
				d.Name, _ = md["name"].(string)
				d.Namespace, _ = md["namespace"].(string)
			}
			if d.APIVersion == "" || d.Kind == "" || d.Name == "" {
				return nil, nil, fmt.Errorf("%s: a document lacks apiVersion, kind or metadata.name", f)
			}
			if d.Namespace == "" && d.Kind != "Namespace" {
				return nil, nil, fmt.Errorf("%s: %s/%s has no metadata.namespace (scenarios must be explicit)", f, d.Kind, d.Name)
			}
			docs = append(docs, d)
		}
	}
	return sc, docs, nil
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// meshOverrides holds -mesh-set KEY=VALUE flags: mesh config fields applied on
// top of every scenario's own `mesh:` (string values only).
type meshOverrideFlag map[string]any

var meshOverrides = meshOverrideFlag{}

func (m meshOverrideFlag) String() string { return fmt.Sprint(map[string]any(m)) }

func (m meshOverrideFlag) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", kv)
	}
	m[k] = v
	return nil
}
