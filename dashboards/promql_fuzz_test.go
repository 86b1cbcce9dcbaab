package dashboards

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseExpr: the test scanner never panics, and whatever it finds is
// text of the input. Seeds: every query of the dashboards and a few
// malformed ones.
func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{
		`sum by (job) (rate(x{a="b", c=~"d|e"}[5m])) / on (job) group_left y`,
		`{__name__="x"}`, `x{a="\"}`, `rate(x[`, `sum(`, `)`, `x{a}`, "x{a=`b`}",
	} {
		f.Add(s)
	}
	files, _ := filepath.Glob("noom-*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			f.Fatal(err)
		}
		for _, q := range exprs(v) {
			f.Add(q)
		}
	}
	f.Fuzz(func(t *testing.T, q string) {
		e, err := parseExpr(q)
		if err != nil {
			return
		}
		for _, s := range e.Selectors {
			if !strings.Contains(q, s.Metric) {
				t.Fatalf("selector %q is not in %q", s.Metric, q)
			}
			for _, m := range s.Matchers {
				if !strings.Contains(q, m.Label) {
					t.Fatalf("label %q is not in %q", m.Label, q)
				}
			}
		}
		for _, l := range e.Grouping {
			if !strings.Contains(q, l) {
				t.Fatalf("grouping label %q is not in %q", l, q)
			}
		}
	})
}

// exprs returns every "expr" string in a decoded JSON document.
func exprs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if s, ok := c.(string); ok && k == "expr" {
				out = append(out, s)
			}
			out = append(out, exprs(c)...)
		}
	case []any:
		for _, c := range v {
			out = append(out, exprs(c)...)
		}
	}
	return out
}
