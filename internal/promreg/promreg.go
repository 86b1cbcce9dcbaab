// Package promreg registers a component's metrics all at once.
package promreg

import "github.com/prometheus/client_golang/prometheus"

// Register registers every collector on reg, or none: at the first error
// it unregisters those it registered, so that a component's New can fail
// and be retried on the same registry. Duplicate registrations are errors
// like any other; they are never swallowed.
func Register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			Unregister(reg, cs[:i]...)
			return err
		}
	}
	return nil
}

// Unregister unregisters collectors from reg.
func Unregister(reg prometheus.Registerer, cs ...prometheus.Collector) {
	for _, c := range cs {
		reg.Unregister(c)
	}
}
