package main

import (
	"sort"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/util/sets"
)

// versionInfo stands in for istiod's push version (a timestamp in a real cluster).
const versionInfo = "oracle"

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}

// configDump wraps generated xDS resources in the shape of Envoy's
// GET /config_dump?include_eds: Bootstrap, Clusters, Listeners, ScopedRoutes,
// Routes, Secrets, then Endpoints.
func configDump(sc *Scenario, ps ProxySpec, p *model.Proxy, meshCfg *meshconfig.MeshConfig,
	listeners []*listenerv3.Listener, clusters []*clusterv3.Cluster,
	routes []*routev3.RouteConfiguration, endpoints []*endpointv3.ClusterLoadAssignment,
	secrets []*tlsv3.Secret, missingSecrets sets.String,
) ([]byte, error) {
	bs, err := envoyBootstrap(ps, p, meshCfg)
	if err != nil {
		return nil, err
	}
	boot := &adminv3.BootstrapConfigDump{Bootstrap: bs}

	sort.SliceStable(clusters, func(i, j int) bool { return clusters[i].Name < clusters[j].Name })
	cd := &adminv3.ClustersConfigDump{VersionInfo: versionInfo}
	for _, c := range bs.GetStaticResources().GetClusters() {
		cd.StaticClusters = append(cd.StaticClusters, &adminv3.ClustersConfigDump_StaticCluster{Cluster: mustAny(c)})
	}
	for _, c := range clusters {
		cd.DynamicActiveClusters = append(cd.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{
			VersionInfo: versionInfo, Cluster: mustAny(c),
		})
	}

	sort.SliceStable(listeners, func(i, j int) bool { return listeners[i].Name < listeners[j].Name })
	ld := &adminv3.ListenersConfigDump{VersionInfo: versionInfo}
	for _, l := range bs.GetStaticResources().GetListeners() {
		ld.StaticListeners = append(ld.StaticListeners, &adminv3.ListenersConfigDump_StaticListener{Listener: mustAny(l)})
	}
	for _, l := range listeners {
		state := &adminv3.ListenersConfigDump_DynamicListenerState{VersionInfo: versionInfo, Listener: mustAny(l)}
		dl := &adminv3.ListenersConfigDump_DynamicListener{Name: l.Name, ActiveState: state}
		if warming(l, missingSecrets) {
			// Envoy holds it in warming until its secrets arrive (see sds.go).
			dl = &adminv3.ListenersConfigDump_DynamicListener{Name: l.Name, WarmingState: state}
		}
		ld.DynamicListeners = append(ld.DynamicListeners, dl)
	}
	sd := &adminv3.SecretsConfigDump{}
	for _, sec := range secrets {
		sd.DynamicActiveSecrets = append(sd.DynamicActiveSecrets, &adminv3.SecretsConfigDump_DynamicSecret{
			Name: sec.Name, VersionInfo: versionInfo, Secret: mustAny(sec),
		})
	}
	for _, name := range sets.SortedList(missingSecrets) {
		// Requested by the listener and never answered: Envoy lists it as warming, without a secret.
		sd.DynamicWarmingSecrets = append(sd.DynamicWarmingSecrets, &adminv3.SecretsConfigDump_DynamicSecret{Name: name})
	}

	sort.SliceStable(routes, func(i, j int) bool { return routes[i].Name < routes[j].Name })
	rd := &adminv3.RoutesConfigDump{}
	for _, r := range routes {
		rd.DynamicRouteConfigs = append(rd.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{
			VersionInfo: versionInfo, RouteConfig: mustAny(r),
		})
	}

	sort.SliceStable(endpoints, func(i, j int) bool { return endpoints[i].ClusterName < endpoints[j].ClusterName })
	ed := &adminv3.EndpointsConfigDump{}
	for _, e := range endpoints {
		ed.DynamicEndpointConfigs = append(ed.DynamicEndpointConfigs, &adminv3.EndpointsConfigDump_DynamicEndpointConfig{
			VersionInfo: versionInfo, EndpointConfig: mustAny(e),
		})
	}

	dump := &adminv3.ConfigDump{Configs: []*anypb.Any{
		mustAny(boot),
		mustAny(cd),
		mustAny(ld),
		mustAny(&adminv3.ScopedRoutesConfigDump{}),
		mustAny(rd),
		mustAny(sd),
		mustAny(ed),
	}}
	b, err := protojson.MarshalOptions{
		UseProtoNames: true, // Envoy's admin API prints proto field names (snake_case)
		Resolver:      protoregistry.GlobalTypes,
	}.Marshal(dump)
	if err != nil {
		return nil, err
	}
	return indentJSON(b)
}
