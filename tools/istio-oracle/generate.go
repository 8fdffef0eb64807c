package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"sigs.k8s.io/yaml"

	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/spiffe"
	"istio.io/istio/pkg/test"
	"istio.io/istio/pkg/util/sets"
)

const (
	// istioModuleVersion is the istio.io/istio module version in go.mod (kept in sync by hand;
	// generate.sh checks it against `go list -m`).
	istioModuleVersion = "v0.0.0-20260827124520-eed52ebb66ad"
	// istioVersionLabel is what the generated proxies report as ISTIO_VERSION.
	istioVersionLabel = "1.31-dev"
	clusterID         = "Kubernetes"
	domainSuffix      = "cluster.local"
)

func generate(dir, dst string) error {
	sc, docs, err := loadScenario(dir)
	if err != nil {
		return err
	}

	// Mesh config: Istio's defaults with the scenario's overrides, parsed by Istio's own code.
	for k, v := range meshOverrides {
		if sc.Mesh == nil {
			sc.Mesh = map[string]any{}
		}
		sc.Mesh[k] = v
	}
	meshYAML := ""
	if len(sc.Mesh) > 0 {
		b, err := yaml.Marshal(sc.Mesh)
		if err != nil {
			return err
		}
		meshYAML = string(b)
	}
	meshCfg, err := mesh.ApplyMeshConfigDefaults(meshYAML)
	if err != nil {
		return fmt.Errorf("mesh config: %v", err)
	}

	var istioDocs, kubeDocs []doc
	for _, d := range docs {
		if d.isIstio() {
			istioDocs = append(istioDocs, d)
		} else {
			kubeDocs = append(kubeDocs, d)
		}
	}

	pods, err := podDocs(sc)
	if err != nil {
		return err
	}
	slices, err := endpointSliceDocs(sc, kubeDocs)
	if err != nil {
		return err
	}
	cmMesh := meshYAML
	if cmMesh == "" {
		cmMesh = "{}\n" // Istio's defaults
	}
	cm, err := meshConfigMap(cmMesh)
	if err != nil {
		return err
	}

	// Everything Kubernetes that the fake API server holds: Services (and any other
	// object in the scenario files), the Pods of the proxies, their EndpointSlices.
	var kubeInput []string
	for _, d := range kubeDocs {
		kubeInput = append(kubeInput, d.Raw)
	}
	kubeInput = append(kubeInput, pods...)
	kubeInput = append(kubeInput, slices...)
	var istioInput []string
	for _, d := range istioDocs {
		istioInput = append(istioInput, d.Raw)
	}

	// Istio resources, parsed by Istio's own CRD code. istiod's Kubernetes config store
	// stamps every config with the mesh domain (used to resolve short hosts such as
	// `host: httpbin` to httpbin.<ns>.svc.cluster.local); the test helper does not, so do it here.
	configs, unknown, err := crd.ParseInputs(strings.Join(istioInput, "---\n"))
	if err != nil {
		return fmt.Errorf("istio resources: %v", err)
	}
	if len(unknown) > 0 {
		return fmt.Errorf("istio resources: kinds Istio does not know: %v", unknown)
	}
	for i := range configs {
		configs[i].Domain = domainSuffix
		if configs[i].CreationTimestamp.IsZero() {
			// Same age for all, so Istio's oldest-wins rules fall back to name order; deterministic.
			configs[i].CreationTimestamp = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		}
	}

	dumps := map[string][]byte{}
	err = test.Wrap(func(t test.Failer) {
		s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
			Configs:                configs,
			KubernetesObjectString: strings.Join(kubeInput, "\n---\n"),
			MeshConfig:             meshCfg,
			// istiod checks with a SubjectAccessReview that a gateway may read the Secrets of
			// its namespace; the istio/gateway chart grants that with a Role, so let it pass.
			DisableSecretAuthorization: true,
		})
		for _, ps := range sc.Proxies {
			p := s.SetupProxy(newProxy(sc, ps))
			if err := checkServices(p, ps); err != nil {
				t.Fatal(err)
			}
			listeners := s.Listeners(p)
			clusters := s.Clusters(p)
			routes := s.RoutesFromListeners(p, listeners)
			endpoints := s.Endpoints(p)
			var secrets []*tlsv3.Secret
			missing := sets.New[string]()
			if ps.Kind == kindGateway {
				secrets, missing = gatewaySecrets(s, p, listeners)
			}
			b, err := configDump(sc, ps, p, meshCfg, listeners, clusters, routes, endpoints, secrets, missing)
			if err != nil {
				t.Fatal(err)
			}
			dumps[ps.Namespace+"/"+ps.Name] = b
		}
	})
	if err != nil {
		return err
	}

	// Write the snapshot afresh.
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	for key, b := range dumps {
		p := filepath.Join(dst, "proxies", filepath.FromSlash(key), "config_dump?include_eds")
		if err := writeFile(p, b); err != nil {
			return err
		}
	}
	var crs []string
	for _, d := range istioDocs {
		crs = append(crs, d.Raw)
	}
	if err := writeFile(filepath.Join(dst, "cluster", "crs"), []byte(strings.Join(crs, "---\n"))); err != nil {
		return err
	}
	k8s := []string{cm}
	for _, d := range kubeDocs {
		k8s = append(k8s, d.Raw)
	}
	k8s = append(k8s, pods...)
	k8s = append(k8s, slices...)
	if err := writeFile(filepath.Join(dst, "cluster", "k8s-resources"), []byte(strings.Join(k8s, "---\n"))); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dst, "versions"), []byte(versionsText(sc))); err != nil {
		return err
	}
	// Hand-written evidence the oracle cannot produce is copied over the generated tree.
	return copyTree(filepath.Join(dir, "handwritten"), dst)
}

func versionsText(sc *Scenario) string {
	v := sc.IstioVersion
	if v == "" {
		v = istioVersionLabel
	}
	return fmt.Sprintf(`generated by mesh-doctor's istio-oracle (tools/istio-oracle), not captured from a cluster
istio.io/istio module: %s (VERSION file 1.31; with istio.io/api and istio.io/client-go v1.31.1; see docs/fixtures.md)
istiod (config generator): the same module, run in-process with fake Kubernetes and config registries
proxy ISTIO_VERSION (node metadata): %s
envoy: not run; the config dump is what this istiod would send, wrapped in Envoy's /config_dump?include_eds shape
`, istioModuleVersion, v)
}

func newProxy(sc *Scenario, ps ProxySpec) *model.Proxy {
	labels := podLabels(ps)
	ver := sc.IstioVersion
	if ver == "" {
		ver = istioVersionLabel
	}
	sa := ps.ServiceAccount
	if sa == "" {
		sa = "default"
	}
	md := &model.NodeMetadata{
		IstioVersion:     ver,
		Namespace:        ps.Namespace,
		Labels:           labels,
		InstanceIPs:      []string{ps.IP},
		ClusterID:        clusterID,
		InterceptionMode: model.InterceptionRedirect,
		ServiceAccount:   sa,
		WorkloadName:     workloadName(ps),
		MeshID:           domainSuffix,
		NodeName:         nodeName(ps),
		IdleTimeout:      ps.IdleTimeout,
	}
	var identity *spiffe.Identity
	if ps.Kind == kindGateway {
		// The identity istiod verified from the proxy's certificate: it decides which
		// credentialName Secrets the gateway may read (pilot/pkg/model/gateway.go).
		identity = &spiffe.Identity{TrustDomain: domainSuffix, Namespace: ps.Namespace, ServiceAccount: sa}
	}
	return &model.Proxy{
		VerifiedIdentity: identity,
		Type:             nodeType(ps),
		IPAddresses:      []string{ps.IP},
		ID:               ps.Name + "." + ps.Namespace,
		ConfigNamespace:  ps.Namespace,
		DNSDomain:        ps.Namespace + ".svc." + domainSuffix,
		Labels:           labels,
		Metadata:         md,
	}
}

// nodeType is the Istio node type pilot-agent reports for the pod: its
// `proxy sidecar|router|waypoint` argument (pkg/model/proxy.go NodeType).
func nodeType(ps ProxySpec) model.NodeType {
	switch ps.Kind {
	case kindGateway:
		return model.Router
	case kindWaypoint:
		return model.Waypoint
	}
	return model.SidecarProxy
}

// nodeID is the node id pilot-agent sends: TYPE~IP~POD.NS~NS.svc.DOMAIN.
func nodeID(ps ProxySpec) string {
	return string(nodeType(ps)) + "~" + ps.IP + "~" + ps.Name + "." + ps.Namespace + "~" + ps.Namespace + ".svc." + domainSuffix
}

func nodeName(ps ProxySpec) string {
	if ps.NodeName != "" {
		return ps.NodeName
	}
	return "node-1"
}

// workloadName strips the ReplicaSet and pod hash suffixes the way a Deployment names pods.
func workloadName(ps ProxySpec) string {
	if app := ps.Labels["app"]; app != "" {
		return app
	}
	parts := strings.Split(ps.Name, "-")
	if len(parts) > 2 {
		return strings.Join(parts[:len(parts)-2], "-")
	}
	return ps.Name
}

// podLabels are the pod's labels as the injector leaves them. The sidecar template
// adds security.istio.io/tlsMode; the gateway template (istio-discovery
// files/gateway-injection-template.yaml) adds only the canonical labels; a
// waypoint's Deployment (files/waypoint.yaml) carries the Gateway's name and the
// mesh controller's label.
func podLabels(ps ProxySpec) map[string]string {
	l := map[string]string{}
	for k, v := range ps.Labels {
		l[k] = v
	}
	if _, ok := l["security.istio.io/tlsMode"]; !ok && ps.Kind == kindSidecar {
		l["security.istio.io/tlsMode"] = "istio"
	}
	if ps.Kind == kindWaypoint {
		if _, ok := l["gateway.networking.k8s.io/gateway-name"]; !ok {
			l["gateway.networking.k8s.io/gateway-name"] = workloadName(ps)
		}
		l["gateway.istio.io/managed"] = "istio.io-mesh-controller"
	}
	if _, ok := l["service.istio.io/canonical-name"]; !ok {
		l["service.istio.io/canonical-name"] = workloadName(ps)
	}
	if _, ok := l["service.istio.io/canonical-revision"]; !ok {
		v := l["version"]
		if v == "" {
			v = "latest"
		}
		l["service.istio.io/canonical-revision"] = v
	}
	return l
}

func checkServices(p *model.Proxy, ps ProxySpec) error {
	got := map[string]bool{}
	for _, st := range p.ServiceTargets {
		got[st.Service.Attributes.Name] = true
	}
	for _, want := range ps.Services {
		if !got[want] {
			var names []string
			for n := range got {
				names = append(names, n)
			}
			sort.Strings(names)
			return fmt.Errorf("proxy %s/%s: expected to back Service %q, Istio found %v", ps.Namespace, ps.Name, want, names)
		}
	}
	return nil
}

func podDocs(sc *Scenario) ([]string, error) {
	var out []string
	for _, ps := range sc.Proxies {
		var ports []map[string]any
		for _, p := range ps.ContainerPorts {
			ports = append(ports, map[string]any{"containerPort": p, "protocol": "TCP"})
		}
		app := map[string]any{"name": workloadName(ps), "image": "oracle/" + workloadName(ps)}
		if len(ports) > 0 {
			app["ports"] = ports
		}
		sa := ps.ServiceAccount
		if sa == "" {
			sa = "default"
		}
		spec := map[string]any{
			"serviceAccountName": sa,
			"nodeName":           nodeName(ps),
			"initContainers":     []any{map[string]any{"name": "istio-init", "image": "docker.io/istio/proxyv2:" + istioVersionLabel}},
			"containers": []any{
				app,
				map[string]any{"name": "istio-proxy", "image": "docker.io/istio/proxyv2:" + istioVersionLabel},
			},
		}
		annotations := map[string]any{
			"sidecar.istio.io/status":                 `{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null}`,
			"kubectl.kubernetes.io/default-container": workloadName(ps),
		}
		if ps.Kind != kindSidecar {
			// A gateway or waypoint pod is the proxy alone: one istio-proxy container
			// whose args name the node type (gateway-injection-template.yaml, waypoint.yaml).
			spec = map[string]any{
				"serviceAccountName": sa,
				"nodeName":           nodeName(ps),
				"containers": []any{map[string]any{
					"name":  "istio-proxy",
					"image": "docker.io/istio/proxyv2:" + istioVersionLabel,
					"args":  []any{"proxy", string(nodeType(ps)), "--domain", "$(POD_NAMESPACE).svc." + domainSuffix},
				}},
			}
			annotations = map[string]any{"istio.io/rev": "default"}
		}
		pod := map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata": map[string]any{
				"name":        ps.Name,
				"namespace":   ps.Namespace,
				"labels":      podLabels(ps),
				"annotations": annotations,
			},
			"spec": spec,
			"status": map[string]any{
				"phase":  "Running",
				"podIP":  ps.IP,
				"podIPs": []any{map[string]any{"ip": ps.IP}},
				"conditions": []any{
					map[string]any{"type": "Ready", "status": "True"},
				},
			},
		}
		b, err := yaml.Marshal(pod)
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

// endpointSliceDocs stands in for kube-controller-manager: one EndpointSlice per
// selector-based Service, listing the scenario's pods it selects. Scenarios that
// ship their own EndpointSlice for a Service keep theirs.
func endpointSliceDocs(sc *Scenario, kube []doc) ([]string, error) {
	have := map[string]bool{}
	for _, d := range kube {
		if d.Kind == "EndpointSlice" {
			if md, ok := d.Obj["metadata"].(map[string]any); ok {
				if l, ok := md["labels"].(map[string]any); ok {
					if n, ok := l["kubernetes.io/service-name"].(string); ok {
						have[d.Namespace+"/"+n] = true
					}
				}
			}
		}
	}
	var out []string
	for _, d := range kube {
		if d.Kind != "Service" || have[d.Namespace+"/"+d.Name] {
			continue
		}
		spec, _ := d.Obj["spec"].(map[string]any)
		sel, _ := spec["selector"].(map[string]any)
		if len(sel) == 0 || spec["type"] == "ExternalName" {
			continue
		}
		var eps []any
		for _, ps := range sc.Proxies {
			if ps.Namespace != d.Namespace {
				continue
			}
			labels := podLabels(ps)
			match := true
			for k, v := range sel {
				if labels[k] != fmt.Sprint(v) {
					match = false
					break
				}
			}
			if !match {
				continue
			}
			eps = append(eps, map[string]any{
				"addresses":  []any{ps.IP},
				"conditions": map[string]any{"ready": true, "serving": true, "terminating": false},
				"nodeName":   nodeName(ps),
				"targetRef":  map[string]any{"kind": "Pod", "name": ps.Name, "namespace": ps.Namespace},
			})
		}
		var ports []any
		svcPorts, _ := spec["ports"].([]any)
		for _, sp := range svcPorts {
			m, _ := sp.(map[string]any)
			port := m["port"]
			if tp, ok := m["targetPort"]; ok {
				if _, isNum := tp.(float64); isNum {
					port = tp
				}
			}
			ep := map[string]any{"port": port, "protocol": "TCP"}
			if n, ok := m["name"]; ok {
				ep["name"] = n
			}
			if ap, ok := m["appProtocol"]; ok {
				ep["appProtocol"] = ap
			}
			ports = append(ports, ep)
		}
		if eps == nil {
			eps = []any{}
		}
		slice := map[string]any{
			"apiVersion":  "discovery.k8s.io/v1",
			"kind":        "EndpointSlice",
			"addressType": "IPv4",
			"metadata": map[string]any{
				"name":      d.Name + "-oracle",
				"namespace": d.Namespace,
				"labels": map[string]any{
					"kubernetes.io/service-name":             d.Name,
					"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
				},
			},
			"endpoints": eps,
			"ports":     ports,
		}
		b, err := yaml.Marshal(slice)
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

func meshConfigMap(meshYAML string) (string, error) {
	cm := map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": "istio", "namespace": "istio-system", "labels": map[string]any{"app": "istiod", "istio.io/rev": "default"}},
		"data":       map[string]any{"mesh": meshYAML, "meshNetworks": "networks: {}\n"},
	}
	b, err := yaml.Marshal(cm)
	return string(b), err
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func copyTree(src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return nil
	}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return writeFile(filepath.Join(dst, rel), b)
	})
}

// indentJSON normalises protojson output (which deliberately varies its whitespace) to stable bytes.
func indentJSON(b []byte) ([]byte, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", " "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
