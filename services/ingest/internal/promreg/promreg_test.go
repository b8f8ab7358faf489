package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegister(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "x_total", Help: "x"}
	a, err := Register(reg, prometheus.NewCounterVec(opts, []string{"l"}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Register(reg, prometheus.NewCounterVec(opts, []string{"l"}))
	if err != nil || a != b {
		t.Fatalf("second registration: %v, same=%v", err, a == b)
	}
	// Same name, different labels: a real conflict.
	if _, err := Register(reg, prometheus.NewCounterVec(opts, []string{"other"})); err == nil {
		t.Fatal("conflicting collector registered")
	}
	// nil registry: nothing registered, no error.
	c := prometheus.NewCounter(opts)
	if got, err := Register(nil, c); err != nil || got != c {
		t.Fatalf("nil registry: %v", err)
	}
}
