package dashboards

import (
	"fmt"
	"strings"
	"unicode"
)

// A small PromQL scanner for the tests: enough to find every vector
// selector (metric name and label matchers), every range ([...]), every
// grouping label list (by, without, on, ignoring, group_left,
// group_right), and which function encloses each selector. Prometheus
// itself checks the grammar (the end-to-end test sends every expression to
// it); this only names the parts the lint rules talk about.

type matcher struct{ Label, Op, Value string }

type selector struct {
	Metric   string // "" for a selector without a name
	Matchers []matcher
	Range    string   // the [...] after it, "" if none
	Funcs    []string // enclosing function and aggregation names, innermost last
}

type expr struct {
	Selectors []selector
	Ranges    []string // every [...], selectors' and subqueries'
	Grouping  []string // labels named in by/without/on/ignoring/group_*
}

func (s selector) matcher(label string) (matcher, bool) {
	for _, m := range s.Matchers {
		if m.Label == label {
			return m, true
		}
	}
	return matcher{}, false
}

func (s selector) String() string {
	var b strings.Builder
	b.WriteString(s.Metric)
	b.WriteByte('{')
	for i, m := range s.Matchers {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s%s%q", m.Label, m.Op, m.Value)
	}
	b.WriteByte('}')
	return b.String()
}

type token struct {
	kind byte // 'i' identifier, 's' string, 'n' number or duration, 'p' punctuation/operator
	text string
}

var keywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

var groupingWords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

func lex(src string) ([]token, error) {
	var out []token
	r := []rune(src)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '#':
			for i < len(r) && r[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			var b strings.Builder
			for ; j < len(r) && r[j] != c; j++ {
				if r[j] == '\\' && c != '`' && j+1 < len(r) {
					j++
				}
				b.WriteRune(r[j])
			}
			if j >= len(r) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			out = append(out, token{'s', b.String()})
			i = j + 1
		case unicode.IsLetter(c) || c == '_' || c == ':' || c == '$':
			j := i
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '_' || r[j] == ':' || r[j] == '$') {
				j++
			}
			out = append(out, token{'i', string(r[i:j])})
			i = j
		case unicode.IsDigit(c) || c == '.':
			j := i
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '.' || r[j] == '_') {
				j++
			}
			out = append(out, token{'n', string(r[i:j])})
			i = j
		default:
			two := ""
			if i+1 < len(r) {
				two = string(r[i : i+2])
			}
			switch two {
			case "=~", "!~", "!=", "==", ">=", "<=":
				out = append(out, token{'p', two})
				i += 2
				continue
			}
			out = append(out, token{'p', string(c)})
			i++
		}
	}
	return out, nil
}

// parseExpr scans a PromQL expression.
func parseExpr(src string) (expr, error) {
	toks, err := lex(src)
	if err != nil {
		return expr{}, err
	}
	var e expr
	// stack of open parentheses: the function or aggregation that opened
	// each ("" for a plain parenthesis).
	var stack []string
	funcs := func() []string {
		var f []string
		for _, s := range stack {
			if s != "" {
				f = append(f, s)
			}
		}
		return f
	}
	pendingFunc := "" // an aggregation whose "by (...)" came before its "("
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		next := func(k int) token {
			if i+k < len(toks) {
				return toks[i+k]
			}
			return token{}
		}
		switch {
		case t.kind == 'i' && groupingWords[t.text]:
			if next(1).text != "(" {
				continue // group_left without labels
			}
			i += 2
			for ; i < len(toks) && toks[i].text != ")"; i++ {
				if toks[i].kind == 'i' {
					e.Grouping = append(e.Grouping, toks[i].text)
				} else if toks[i].text != "," {
					return e, fmt.Errorf("unexpected %q in a label list", toks[i].text)
				}
			}
			if i >= len(toks) {
				return e, fmt.Errorf("unterminated label list")
			}
		case t.kind == 'i' && keywords[t.text]:
		case t.kind == 'i' && next(1).text == "(":
			stack = append(stack, t.text)
			i++
		case t.kind == 'i' && (next(1).text == "by" || next(1).text == "without"):
			pendingFunc = t.text // sum by (x) (...)
		case t.text == "(":
			stack = append(stack, pendingFunc)
			pendingFunc = ""
		case t.text == ")":
			if len(stack) == 0 {
				return e, fmt.Errorf("unbalanced )")
			}
			stack = stack[:len(stack)-1]
		case t.kind == 'i' || t.text == "{":
			s := selector{Funcs: funcs()}
			if t.kind == 'i' {
				s.Metric = t.text
				if next(1).text != "{" {
					goto rng
				}
				i++
			}
			// matchers
			for i++; i < len(toks) && toks[i].text != "}"; i++ {
				if toks[i].text == "," {
					continue
				}
				if toks[i].kind != 'i' || i+2 >= len(toks) || toks[i+1].kind != 'p' || toks[i+2].kind != 's' {
					return e, fmt.Errorf("bad label matcher near %q", toks[i].text)
				}
				s.Matchers = append(s.Matchers, matcher{toks[i].text, toks[i+1].text, toks[i+2].text})
				i += 2
			}
			if i >= len(toks) {
				return e, fmt.Errorf("unterminated selector")
			}
		rng:
			if i+1 < len(toks) && toks[i+1].text == "[" {
				i++
				r, n, err := rangeAt(toks, i)
				if err != nil {
					return e, err
				}
				s.Range = r
				e.Ranges = append(e.Ranges, r)
				i = n
			}
			e.Selectors = append(e.Selectors, s)
		case t.text == "[":
			r, n, err := rangeAt(toks, i)
			if err != nil {
				return e, err
			}
			e.Ranges = append(e.Ranges, r)
			i = n
		}
	}
	if len(stack) != 0 {
		return e, fmt.Errorf("unbalanced (")
	}
	return e, nil
}

// rangeAt reads "[ ... ]" starting at toks[i] == "[" and returns its
// content and the index of "]".
func rangeAt(toks []token, i int) (string, int, error) {
	var b strings.Builder
	for i++; i < len(toks) && toks[i].text != "]"; i++ {
		b.WriteString(toks[i].text)
	}
	if i >= len(toks) {
		return "", i, fmt.Errorf("unterminated range")
	}
	return b.String(), i, nil
}

// legendLabels returns the labels a legend format names ({{label}}).
func legendLabels(format string) []string {
	var out []string
	for {
		i := strings.Index(format, "{{")
		if i < 0 {
			return out
		}
		j := strings.Index(format[i:], "}}")
		if j < 0 {
			return out
		}
		out = append(out, strings.TrimSpace(format[i+2:i+j]))
		format = format[i+j+2:]
	}
}
