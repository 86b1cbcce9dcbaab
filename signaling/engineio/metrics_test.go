package engineio

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetricsLint lints the transport's labelled collectors one by one,
// with their pre-created series.
func TestMetricsLint(t *testing.T) {
	srv, err := NewServer(Config{}, &echoApp{}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(t.Context())
	for _, c := range []prometheus.Collector{srv.metrics.connections, srv.metrics.disconnects, srv.metrics.payloadRejected} {
		problems, err := testutil.CollectAndLint(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}
