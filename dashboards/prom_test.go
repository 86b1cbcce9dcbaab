package dashboards

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireTool finds a program the test needs. Missing, it skips loudly, and
// fails when CI is set: CI installs it (.ci/run installs Debian's
// prometheus package, which brings promtool).
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := "MISSING " + name + ": this test cannot run (Debian: apt-get install -y prometheus)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Log("!!!!! " + msg)
	t.Skip(msg)
	return ""
}

// prometheus is a real Prometheus server run for one test, on loopback,
// with its storage in a temporary directory.
type prometheus struct {
	base string
	http *http.Client
}

// startPrometheus runs /usr/bin/prometheus with the rule file and, when
// target is not empty, a job "noom" scraping target every second. It
// returns once Prometheus is ready; the test's cleanup stops it.
func startPrometheus(t *testing.T, target string) *prometheus {
	t.Helper()
	bin := requireTool(t, "prometheus")
	dir := t.TempDir()
	rules, err := filepath.Abs("noom-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - %q\n", rules)
	if target != "" {
		cfg += fmt.Sprintf("scrape_configs:\n  - job_name: noom\n    scrape_interval: 1s\n    scrape_timeout: 900ms\n    static_configs:\n      - targets: [%q]\n", target)
	}
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// Prometheus cannot report the port it picked for :0, so take a free
	// loopback port and hand it over; retry if another process wins it.
	for attempt := 0; ; attempt++ {
		addr := freePort(t)
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, bin,
			"--config.file="+cfgFile,
			"--storage.tsdb.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+addr,
			"--log.level=warn",
		)
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		p := &prometheus{base: "http://" + addr, http: &http.Client{Timeout: 10 * time.Second}}
		err := p.waitReady(exited)
		if err == nil {
			t.Cleanup(func() {
				cancel() // SIGKILL: the storage is thrown away anyway
				<-exited
			})
			return p
		}
		cancel()
		<-exited
		if attempt == 2 || !strings.Contains(stderr.String(), "address already in use") {
			t.Fatalf("prometheus did not start: %v\n%s", err, stderr.String())
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitReady polls /-/ready until Prometheus answers 200 or exits.
func (p *prometheus) waitReady(exited <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		default:
		}
		if res, err := p.http.Get(p.base + "/-/ready"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("not ready after 30s")
}

// api calls a Prometheus HTTP API endpoint and decodes its data.
func (p *prometheus) api(path string, params url.Values, data any) error {
	res, err := p.http.Get(p.base + path + "?" + params.Encode())
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var body struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return fmt.Errorf("%s: HTTP %d: %v", path, res.StatusCode, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("%s: %s: %s", path, body.ErrorType, body.Error)
	}
	return json.Unmarshal(body.Data, data)
}

// sample is one series of an instant query's result.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s sample) value() string { v, _ := s.Value[1].(string); return v }

// query runs an instant query and returns its vector (a scalar comes back
// as one series without labels).
func (p *prometheus) query(q string) ([]sample, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.api("/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	switch data.ResultType {
	case "vector":
		var v []sample
		return v, json.Unmarshal(data.Result, &v)
	case "scalar":
		var s [2]any
		return []sample{{Value: s}}, json.Unmarshal(data.Result, &s)
	default:
		return nil, fmt.Errorf("result type %s", data.ResultType)
	}
}

// rule is a rule as Prometheus loaded it (GET /api/v1/rules).
type rule struct {
	Type        string            `json:"type"` // alerting or recording
	Name        string            `json:"name"`
	Query       string            `json:"query"`
	Duration    float64           `json:"duration"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Health      string            `json:"health"`
	LastError   string            `json:"lastError"`
	Group       string            `json:"-"`
}

func (p *prometheus) rules(t *testing.T) []rule {
	t.Helper()
	var data struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}
	if err := p.api("/api/v1/rules", nil, &data); err != nil {
		t.Fatal(err)
	}
	var out []rule
	for _, g := range data.Groups {
		for _, r := range g.Rules {
			r.Group = g.Name
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		t.Fatal("Prometheus loaded no rules")
	}
	return out
}
