package rules

import (
	"math"
	"testing"
)

func TestSanitize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    float64
		value float64
		isNaN bool
	}{
		{math.NaN(), 0, true},
		{math.Inf(1), math.MaxFloat64, false},
		{math.Inf(-1), -math.MaxFloat64, false},
		{0.25, 0.25, false},
		{-3, -3, false},
	}
	for _, tt := range tests {
		v, isNaN := Sanitize(tt.in)
		if v != tt.value || isNaN != tt.isNaN {
			t.Errorf("Sanitize(%v) = %v, %v; want %v, %v", tt.in, v, isNaN, tt.value, tt.isNaN)
		}
	}
}

func pt(step, ts int64, raw float64) MetricPoint {
	v, isNaN := Sanitize(raw)
	return MetricPoint{Key: "k", Step: step, Timestamp: ts, Value: v, IsNaN: isNaN}
}

// TestLatestMetricRule covers every case of MLflow's rule in docs/SEMANTICS.md: the greatest
// (step, timestamp, sanitised value) wins, and on equal tuples the first logged stays.
func TestLatestMetricRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		points []MetricPoint
		want   MetricPoint
	}{
		{"higher step wins despite an older timestamp", []MetricPoint{pt(1, 200, 5), pt(2, 100, 1)}, pt(2, 100, 1)},
		{"lower step loses despite a newer timestamp", []MetricPoint{pt(2, 100, 1), pt(1, 200, 5)}, pt(2, 100, 1)},
		{"same step: newer timestamp wins", []MetricPoint{pt(1, 100, 9), pt(1, 101, 1)}, pt(1, 101, 1)},
		{"same step and timestamp: larger value wins", []MetricPoint{pt(1, 100, 1), pt(1, 100, 2)}, pt(1, 100, 2)},
		{"same step and timestamp: smaller value later loses", []MetricPoint{pt(1, 100, 2), pt(1, 100, 1)}, pt(1, 100, 2)},
		{"NaN then 0 at the same step and time: NaN logged first stays", []MetricPoint{pt(1, 100, math.NaN()), pt(1, 100, 0)}, pt(1, 100, math.NaN())},
		{"0 then NaN at the same step and time: 0 logged first stays", []MetricPoint{pt(1, 100, 0), pt(1, 100, math.NaN())}, pt(1, 100, 0)},
		{"NaN compares as 0: a positive value beats it", []MetricPoint{pt(1, 100, math.NaN()), pt(1, 100, 0.5)}, pt(1, 100, 0.5)},
		{"NaN compares as 0: it beats a negative value", []MetricPoint{pt(1, 100, -0.5), pt(1, 100, math.NaN())}, pt(1, 100, math.NaN())},
		{"+inf is max float and beats finite values", []MetricPoint{pt(1, 100, 1e300), pt(1, 100, math.Inf(1))}, pt(1, 100, math.Inf(1))},
		{"inf and max float tie: the first stays", []MetricPoint{pt(1, 100, math.MaxFloat64), pt(1, 100, math.Inf(1))}, pt(1, 100, math.MaxFloat64)},
		{"negative steps order below zero", []MetricPoint{pt(0, 1, 1), pt(-1, 5, 2)}, pt(0, 1, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLatestMetrics()
			for _, p := range tt.points {
				l.Observe(p)
			}
			got := l.Points()
			if len(got) != 1 || got[0] != tt.want {
				t.Fatalf("latest = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLatestMetricsKeysAndReset(t *testing.T) {
	t.Parallel()
	l := NewLatestMetrics()
	l.Observe(MetricPoint{Key: "b", Step: 1})
	l.Observe(MetricPoint{Key: "a", Step: 1})
	l.Observe(MetricPoint{Key: "b", Step: 2})
	got := l.Points()
	if len(got) != 2 || got[0].Key != "b" || got[0].Step != 2 || got[1].Key != "a" {
		t.Fatalf("points = %+v", got)
	}
	l.Reset()
	if len(l.Points()) != 0 || l.Seen("a") {
		t.Fatal("Reset kept points")
	}
}
