package dashboards

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPromtoolRules runs promtool's checks (the rules and the example
// configuration) and the unit tests in
// testdata/noom-rules.test.yml: every alert fires from synthetic series,
// and promtool's exact comparison of the firing set keeps the healthy
// series of each test silent.
func TestPromtoolRules(t *testing.T) {
	promtool := requireTool(t, "promtool")
	for _, args := range [][]string{
		{"check", "rules", "noom-rules.yml"},
		{"test", "rules", "testdata/noom-rules.test.yml"},
		{"check", "config", "prometheus.example.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// A broken rule must fail the check: the test above is not vacuous.
	bad := t.TempDir() + "/bad.yml"
	os.WriteFile(bad, []byte("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(up[5m]\n"), 0o644)
	if out, err := exec.Command(promtool, "check", "rules", bad).CombinedOutput(); err == nil {
		t.Errorf("promtool accepted a broken rule:\n%s", out)
	}
}

var (
	camelCase   = regexp.MustCompile(`^Noom[A-Z][A-Za-z]+$`)
	recordName  = regexp.MustCompile(`^[a-z_]+:noom_[a-z_]+:[a-z0-9_]+$`)
	runbookURL  = regexp.MustCompile(`^https://github\.com/noomrtc/noom/blob/main/dashboards/RUNBOOK\.md#([a-z0-9-]+)$`)
	heading     = regexp.MustCompile(`(?m)^#{2,3} (.+)$`)
	firingCase  = `alertname: %s\s+exp_alerts:\s+- exp_labels`
	severities  = map[string]bool{"critical": true, "warning": true, "info": true}
	jobSelector = `noom.*`
)

// TestRuleConventions loads the rules into a real Prometheus and checks
// what the monitoring-mixins conventions ask of each: Noom-prefixed
// CamelCase names, a severity, a for: duration, a fixed-sentence summary,
// a templated description, a runbook_url into a RUNBOOK.md section that
// exists, a promtool test that fires it, and selectors scoped to the Noom
// jobs.
func TestRuleConventions(t *testing.T) {
	prom := startPrometheus(t, "")
	runbook, err := os.ReadFile("RUNBOOK.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(string(runbook), -1) {
		anchors[githubAnchor(m[1])] = true
	}
	tests, err := os.ReadFile("testdata/noom-rules.test.yml")
	if err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for _, r := range prom.rules(t) {
		e, err := parseExpr(r.Query)
		if err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
		for _, s := range e.Selectors {
			if strings.Contains(s.Metric, ":") {
				continue // a recording rule's output
			}
			if m, ok := s.matcher("job"); !ok || m.Op != "=~" || m.Value != jobSelector {
				t.Errorf("%s: %s: select the Noom jobs with job=~%q", r.Name, s, jobSelector)
			}
		}
		if r.Type == "recording" {
			if !recordName.MatchString(r.Name) {
				t.Errorf("recording rule %q: want level:metric:operations", r.Name)
			}
			continue
		}
		alerts++
		if !camelCase.MatchString(r.Name) {
			t.Errorf("alert %q: want a Noom-prefixed CamelCase name", r.Name)
		}
		if !severities[r.Labels["severity"]] {
			t.Errorf("%s: severity %q", r.Name, r.Labels["severity"])
		}
		if d := time.Duration(r.Duration * float64(time.Second)); d < time.Minute {
			t.Errorf("%s: for: %v; a threshold alert waits at least a minute", r.Name, d)
		}
		sum := r.Annotations["summary"]
		if sum == "" || strings.Contains(sum, "{{") || !strings.HasSuffix(sum, ".") || strings.ToUpper(sum[:1]) != sum[:1] {
			t.Errorf("%s: summary %q: a fixed sentence", r.Name, sum)
		}
		if !strings.Contains(r.Annotations["description"], "{{") {
			t.Errorf("%s: description %q names no label or value", r.Name, r.Annotations["description"])
		}
		m := runbookURL.FindStringSubmatch(r.Annotations["runbook_url"])
		if m == nil || !anchors[m[1]] || m[1] != strings.ToLower(r.Name) {
			t.Errorf("%s: runbook_url %q: want RUNBOOK.md#%s, a section that exists", r.Name, r.Annotations["runbook_url"], strings.ToLower(r.Name))
		}
		if !regexp.MustCompile(strings.ReplaceAll(firingCase, "%s", r.Name)).Match(tests) {
			t.Errorf("%s: no promtool test makes it fire", r.Name)
		}
	}
	if alerts < 10 {
		t.Errorf("%d alerts loaded", alerts)
	}
}

// githubAnchor is the fragment GitHub gives a Markdown heading.
func githubAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}
