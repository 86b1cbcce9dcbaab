package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterAllOrNothing(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := prometheus.NewCounter(prometheus.CounterOpts{Name: "a_total", Help: "a"})
	b := prometheus.NewCounter(prometheus.CounterOpts{Name: "b_total", Help: "b"})
	if err := Register(reg, b); err != nil {
		t.Fatal(err)
	}
	dupB := prometheus.NewCounter(prometheus.CounterOpts{Name: "b_total", Help: "b"})
	if err := Register(reg, a, dupB); err == nil {
		t.Fatal("duplicate registration accepted")
	}
	// a was rolled back: registering it again works.
	if err := Register(reg, a); err != nil {
		t.Fatalf("a was left registered: %v", err)
	}
}
