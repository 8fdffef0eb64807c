package main

import (
	"regexp"
	"sort"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	v3 "istio.io/istio/pilot/pkg/xds/v3"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/util/sets"
)

// sdsName matches the SDS resources a gateway's TLS chains read for a
// credentialName (pilot/pkg/credentials: kubernetes://NAME, NAME-cacert for MUTUAL).
var sdsName = regexp.MustCompile(`"(kubernetes(?:-gateway)?://[^"]+)"`)

// listenerSecrets lists the credentialName SDS resources a listener's chains need.
func listenerSecrets(l *listenerv3.Listener) []string {
	b, err := protojson.Marshal(l)
	if err != nil {
		return nil
	}
	set := sets.New[string]()
	for _, m := range sdsName.FindAllSubmatch(b, -1) {
		set.Insert(string(m[1]))
	}
	return sets.SortedList(set)
}

// gatewaySecrets asks istiod's own SDS generator (pilot/pkg/xds/sds.go, reading
// Kubernetes Secrets through its credentials controller) for every credential the
// gateway's listeners reference. It returns the secrets istiod sends, with Envoy's
// redaction of private keys applied, and the names it does not send (a missing or
// unreadable Secret: istiod answers nothing for it).
func gatewaySecrets(s *xds.FakeDiscoveryServer, p *model.Proxy, listeners []*listenerv3.Listener) ([]*tlsv3.Secret, sets.String) {
	want := sets.New[string]()
	for _, l := range listeners {
		want.InsertAll(listenerSecrets(l)...)
	}
	if want.Len() == 0 {
		return nil, sets.New[string]()
	}
	gen := s.Discovery.Generators[v3.SecretType]
	res, _, _ := gen.Generate(p, &model.WatchedResource{ResourceNames: want}, &model.PushRequest{Start: time.Now(), Forced: true})
	var out []*tlsv3.Secret
	got := sets.New[string]()
	for _, r := range res {
		sec := &tlsv3.Secret{}
		if err := r.Resource.UnmarshalTo(sec); err != nil {
			continue
		}
		redact(sec)
		out = append(out, sec)
		got.Insert(sec.Name)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, want.Difference(got)
}

// redact does what Envoy's admin does to secrets in /config_dump: private keys
// print as "[redacted]" (source/common/protobuf/utility.cc MessageUtil::redact).
func redact(sec *tlsv3.Secret) {
	if c := sec.GetTlsCertificate(); c != nil && c.PrivateKey != nil {
		c.PrivateKey.Specifier = &corev3.DataSource_InlineBytes{InlineBytes: []byte("[redacted]")}
	}
}

// warming reports whether Envoy would hold this listener in warming: a listener
// is not served until every SDS secret of its filter chains has arrived, and
// Istio's SDS configs have no initial fetch timeout (Envoy
// source/common/listener_manager/listener_impl.cc, init manager).
func warming(l *listenerv3.Listener, missing sets.String) bool {
	for _, n := range listenerSecrets(l) {
		if missing.Contains(n) {
			return true
		}
	}
	return false
}
