package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The rules of grafana/dashboard-linter and monitoring-mixins that Noom's
// dashboards follow, checked on every dashboard file.

// units are the Grafana unit ids the dashboards may use.
var units = map[string]bool{
	"none": true, "short": true, "percentunit": true, "s": true, "ms": true,
	"bytes": true, "Bps": true, "bps": true, "ops": true, "reqps": true, "pps": true,
}

const wantDatasource = "${datasource}"

// dashboard is one dashboard file, decoded.
type dashboard struct {
	file string
	raw  map[string]any
}

// panel is a panel with its targets, rows flattened.
type panel struct {
	ID          float64
	Type, Title string
	Description string
	Datasource  any
	GridPos     struct{ H, W, X, Y float64 }
	FieldConfig struct {
		Defaults struct{ Unit string }
	}
	Options struct {
		YAxis struct{ Unit string }
	}
	Targets []struct {
		Datasource   any
		Expr         string
		LegendFormat string
		RefID        string
		Format       string
	}
	Panels []panel // a collapsed row's panels
}

func loadDashboards(t *testing.T) []dashboard {
	t.Helper()
	files, err := filepath.Glob("noom-*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("found %d dashboards (%v), want overview, signaling, calls and TURN", len(files), files)
	}
	var out []dashboard
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if dec.More() {
			t.Fatalf("%s: data after the JSON object", f)
		}
		out = append(out, dashboard{file: f, raw: raw})
	}
	return out
}

// panels returns the dashboard's panels, rows and collapsed rows'
// children included, in order.
func (d dashboard) panels(t *testing.T) []panel {
	t.Helper()
	b, _ := json.Marshal(d.raw["panels"])
	var top []panel
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatalf("%s: panels: %v", d.file, err)
	}
	var out []panel
	for _, p := range top {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

func TestDashboardStructure(t *testing.T) {
	uids := map[string]string{}
	for _, d := range loadDashboards(t) {
		t.Run(d.file, func(t *testing.T) {
			checkDashboardFields(t, d)
			checkVariables(t, d)
			checkNoHardCodedUIDs(t, d)
			if uid, ok := d.raw["uid"].(string); ok {
				if other, dup := uids[uid]; dup {
					t.Errorf("uid %q also used by %s", uid, other)
				}
				uids[uid] = d.file
			}
			checkPanels(t, d)
			for _, a := range annotations(d) {
				if a.Datasource != nil && fmt.Sprint(a.Datasource) != fmt.Sprint(map[string]any{"type": "prometheus", "uid": wantDatasource}) {
					t.Errorf("annotation %q: datasource %v, want ${datasource}", a.Name, a.Datasource)
				}
				checkQuery(t.Errorf, "annotation "+a.Name, a.Expr, "")
			}
		})
	}
}

func checkDashboardFields(t *testing.T, d dashboard) {
	want := strings.TrimSuffix(d.file, ".json")
	if d.raw["uid"] != want {
		t.Errorf("uid %v, want %q (the file name: provisioning and links rely on it)", d.raw["uid"], want)
	}
	if title, _ := d.raw["title"].(string); !strings.HasPrefix(title, "Noom / ") {
		t.Errorf("title %q, want a \"Noom / \" prefix", title)
	}
	if id, ok := d.raw["id"]; !ok || id != nil {
		t.Errorf("id %v, want null (Grafana assigns it)", id)
	}
	if d.raw["editable"] != false {
		t.Error("editable must be false: the dashboards are code")
	}
	if tags, _ := d.raw["tags"].([]any); !slices.Contains(tags, any("noom")) {
		t.Errorf("tags %v lack \"noom\" (the dashboard links find each other by it)", tags)
	}
	if _, ok := d.raw["schemaVersion"].(float64); !ok {
		t.Error("no schemaVersion")
	}
	if _, ok := d.raw["__inputs"]; ok {
		t.Error("__inputs: file provisioning cannot resolve ${DS_...} inputs; use the datasource variable")
	}
	if desc, _ := d.raw["description"].(string); desc == "" {
		t.Error("no description")
	}
	links, _ := d.raw["links"].([]any)
	linked := false
	for _, l := range links {
		if m, ok := l.(map[string]any); ok && m["type"] == "dashboards" && slices.Contains(m["tags"].([]any), any("noom")) {
			linked = true
		}
	}
	if !linked {
		t.Error("no link to the other Noom dashboards (type dashboards, tag noom)")
	}
}

type variable struct {
	Name, Label, Type string
	Query             any
	Datasource        any
	Multi, IncludeAll bool
	AllValue          string
	Refresh           float64
}

func variables(t *testing.T, d dashboard) map[string]variable {
	t.Helper()
	tpl, _ := d.raw["templating"].(map[string]any)
	b, _ := json.Marshal(tpl["list"])
	var list []variable
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatalf("templating: %v", err)
	}
	out := map[string]variable{}
	for _, v := range list {
		if _, dup := out[v.Name]; dup {
			t.Errorf("variable %q twice", v.Name)
		}
		out[v.Name] = v
	}
	return out
}

func checkVariables(t *testing.T, d dashboard) {
	vars := variables(t, d)
	ds, ok := vars["datasource"]
	if !ok || ds.Type != "datasource" || ds.Query != "prometheus" || ds.Label != "Data source" {
		t.Errorf("datasource variable %+v, want type datasource, query prometheus, label \"Data source\"", ds)
	}
	n := 0
	for _, v := range vars {
		if v.Type == "datasource" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d datasource variables, want 1", n)
	}
	for _, name := range []string{"job", "instance"} {
		v, ok := vars[name]
		if !ok {
			t.Errorf("no %s variable", name)
			continue
		}
		q, _ := v.Query.(string)
		if v.Type != "query" || v.Label != name || !v.Multi || !v.IncludeAll || v.AllValue != ".+" || v.Refresh != 2 ||
			fmt.Sprint(v.Datasource) != fmt.Sprint(map[string]any{"type": "prometheus", "uid": wantDatasource}) ||
			!strings.HasPrefix(q, "label_values(noom_build_info") || !strings.HasSuffix(q, ", "+name+")") {
			t.Errorf("%s variable %+v: want a multi-value query variable with All (.+), refreshed on time change, label_values(noom_build_info..., %s) on $datasource", name, v, name)
		}
	}
	if q, _ := vars["instance"].Query.(string); !strings.Contains(q, `job=~"$job"`) {
		t.Errorf("instance variable %q does not follow the job variable", q)
	}
}

// checkNoHardCodedUIDs walks the whole document: every datasource is the
// variable, and no uid but the dashboard's own is written down.
func checkNoHardCodedUIDs(t *testing.T, d dashboard) {
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				p := path + "." + k
				switch k {
				case "uid":
					if path != "" && c != wantDatasource {
						t.Errorf("%s = %v: a hard-coded uid", p, c)
					}
				case "datasource":
					if m, ok := c.(map[string]any); !ok || m["uid"] != wantDatasource || m["type"] != "prometheus" {
						t.Errorf("%s = %v, want {type: prometheus, uid: ${datasource}}", p, c)
					}
				}
				walk(p, c)
			}
		case []any:
			for i, c := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		}
	}
	walk("", d.raw)
}

type annotation struct {
	Name       string
	Datasource any
	Expr       string
}

func annotations(d dashboard) []annotation {
	a, _ := d.raw["annotations"].(map[string]any)
	b, _ := json.Marshal(a["list"])
	var out []annotation
	json.Unmarshal(b, &out)
	return out
}

func checkPanels(t *testing.T, d dashboard) {
	ids := map[float64]string{}
	type rect struct {
		title      string
		x, y, w, h float64
	}
	var placed []rect
	for _, p := range d.panels(t) {
		if p.ID <= 0 {
			t.Errorf("panel %q: id %v", p.Title, p.ID)
		}
		if other, dup := ids[p.ID]; dup {
			t.Errorf("panel id %v used by %q and %q", p.ID, other, p.Title)
		}
		ids[p.ID] = p.Title
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v", p.Title, g)
		}
		for _, o := range placed {
			if g.X < o.x+o.w && o.x < g.X+g.W && g.Y < o.y+o.h && o.y < g.Y+g.H {
				t.Errorf("panel %q overlaps %q", p.Title, o.title)
			}
		}
		placed = append(placed, rect{p.Title, g.X, g.Y, g.W, g.H})
		if p.Type == "row" {
			if p.Title == "" {
				t.Errorf("row %v without a title", p.ID)
			}
			continue
		}
		name := fmt.Sprintf("panel %q", p.Title)
		if p.Title == "" || len(p.Description) < 20 {
			t.Errorf("%s: a title and a description saying what bad looks like are required", name)
		}
		switch p.Type {
		case "timeseries", "stat", "gauge", "bargauge", "table":
			if !units[p.FieldConfig.Defaults.Unit] {
				t.Errorf("%s: unit %q is not one of the known units", name, p.FieldConfig.Defaults.Unit)
			}
		case "heatmap":
			if !units[p.Options.YAxis.Unit] {
				t.Errorf("%s: y axis unit %q is not one of the known units", name, p.Options.YAxis.Unit)
			}
		default:
			t.Errorf("%s: panel type %q not allowed", name, p.Type)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no targets", name)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("%s: refId %q missing or repeated", name, tg.RefID)
			}
			refs[tg.RefID] = true
			checkQuery(t.Errorf, name, tg.Expr, tg.LegendFormat)
		}
	}
}

var rateFuncs = map[string]bool{"rate": true, "irate": true, "increase": true}

// checkQuery applies the dashboard-linter target rules to one query.
func checkQuery(errorf func(string, ...any), name, q, legend string) {
	e, err := parseExpr(q)
	if err != nil {
		errorf("%s: %q: %v", name, q, err)
		return
	}
	if len(e.Selectors) == 0 {
		errorf("%s: %q selects nothing", name, q)
	}
	for _, s := range e.Selectors {
		if s.Metric == "" || strings.Contains(s.Metric, ":") {
			errorf("%s: %s: dashboards read exported metrics by name, not recording rules (they must work without the rule file)", name, s)
		}
		for _, l := range []string{"job", "instance"} {
			if m, ok := s.matcher(l); !ok || m.Op != "=~" || m.Value != "$"+l {
				errorf("%s: %s lacks %s=~\"$%s\"", name, s, l, l)
			}
		}
		counter := strings.HasSuffix(s.Metric, "_total") || strings.HasSuffix(s.Metric, "_bucket") ||
			strings.HasSuffix(s.Metric, "_count") || strings.HasSuffix(s.Metric, "_sum") || s.Metric == "process_cpu_seconds_total"
		inRate := len(s.Funcs) > 0 && rateFuncs[s.Funcs[len(s.Funcs)-1]]
		if counter && !inRate {
			errorf("%s: counter %s used outside rate/irate/increase", name, s.Metric)
		}
		if inRate && s.Range != "$__rate_interval" {
			errorf("%s: %s[%s]: use [$__rate_interval]", name, s.Metric, s.Range)
		}
	}
	for _, r := range e.Ranges {
		if r != "$__rate_interval" {
			errorf("%s: range [%s]: use $__rate_interval", name, r)
		}
	}
	for _, l := range legendLabels(legend) {
		if !regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`).MatchString(l) {
			errorf("%s: legend %q: {{%s}} is not a label", name, legend, l)
		}
	}
}

// TestLintCatches shows that the query rules reject what they should.
func TestLintCatches(t *testing.T) {
	bad := map[string]string{
		"no job/instance":      `rate(noom_signaling_events_received_total[$__rate_interval])`,
		"fixed window":         `rate(noom_signaling_events_received_total{job=~"$job", instance=~"$instance"}[5m])`,
		"counter without rate": `sum(noom_signaling_events_received_total{job=~"$job", instance=~"$instance"})`,
		"recording rule":       `job:noom_call_connect_failures:ratio_rate5m{job=~"$job", instance=~"$instance"}`,
		"equality matcher":     `noom_call_rooms{job="$job", instance=~"$instance"}`,
	}
	for name, q := range bad {
		var errs []string
		checkQuery(func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }, name, q, "")
		if len(errs) == 0 {
			t.Errorf("%s: %q passed the lint", name, q)
		}
	}
}
