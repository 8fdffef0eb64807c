package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoregistry"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/bootstrap"
	"istio.io/istio/pkg/config/mesh"
	pkgmodel "istio.io/istio/pkg/model"
)

// bootstrapTemplate is Istio's Envoy bootstrap template
// (tools/packaging/common/envoy_bootstrap.json of the pinned istio module), set by -bootstrap-template.
var bootstrapTemplate string

// envoyBootstrap renders the bootstrap pilot-agent would write for this pod, with
// Istio's own bootstrap code and template: node (id, cluster, metadata), static
// listeners (15090 prometheus, 15021 health) and static clusters (prometheus_stats,
// agent, sds-grpc, xds-grpc).
func envoyBootstrap(ps ProxySpec, p *model.Proxy, meshCfg *meshconfig.MeshConfig) (*bootstrapv3.Bootstrap, error) {
	if bootstrapTemplate == "" {
		return nil, fmt.Errorf("no -bootstrap-template given")
	}
	if _, err := os.Stat(bootstrapTemplate); err != nil {
		return nil, fmt.Errorf("bootstrap template: %v", err)
	}
	pc := meshCfg.GetDefaultConfig()
	if pc == nil {
		pc = mesh.DefaultProxyConfig()
	}
	md := *p.Metadata
	md.ProxyConfig = (*pkgmodel.NodeMetaProxyConfig)(pc)
	md.EnvoyStatusPort = 15021 // the injector sets ENVOY_STATUS_PORT=15021; pc.StatusPort (15020) is the agent's
	md.EnvoyPrometheusPort = 15090
	bm := &pkgmodel.BootstrapNodeMetadata{
		NodeMetadata:        md,
		InstanceName:        ps.Name,
		Owner:               "kubernetes://apis/apps/v1/namespaces/" + ps.Namespace + "/deployments/" + workloadName(ps),
		AppContainers:       appContainers(ps),
		PilotSubjectAltName: []string{"istiod.istio-system.svc"},
	}
	raw, err := json.Marshal(bm)
	if err != nil {
		return nil, err
	}
	rawMeta := map[string]any{}
	if err := json.Unmarshal(raw, &rawMeta); err != nil {
		return nil, err
	}
	node := &pkgmodel.Node{
		ID:          nodeID(ps),
		Metadata:    bm,
		RawMetadata: rawMeta,
		Locality:    &corev3.Locality{},
	}
	var buf bytes.Buffer
	if err := bootstrap.New(bootstrap.Config{Node: node}).WriteTo(bootstrapTemplate, &buf); err != nil {
		return nil, fmt.Errorf("rendering bootstrap: %v", err)
	}
	b := &bootstrapv3.Bootstrap{}
	if err := (protojson.UnmarshalOptions{Resolver: protoregistry.GlobalTypes}).Unmarshal(buf.Bytes(), b); err != nil {
		_ = os.WriteFile(filepath.Join(os.TempDir(), "istio-oracle-bootstrap.json"), buf.Bytes(), 0o644)
		return nil, fmt.Errorf("parsing rendered bootstrap (left in %s): %v", filepath.Join(os.TempDir(), "istio-oracle-bootstrap.json"), err)
	}
	return b, nil
}

// appContainers is the APP_CONTAINERS the injector sets: the pod's containers
// other than istio-proxy (none for a gateway or waypoint pod).
func appContainers(ps ProxySpec) string {
	if ps.Kind != kindSidecar {
		return ""
	}
	return workloadName(ps)
}
