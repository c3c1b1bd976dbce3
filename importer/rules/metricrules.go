package rules

import "math"

// maxFloat64 is what MLflow's SQL store writes for ±infinity.
const maxFloat64 = math.MaxFloat64

// Sanitize turns a logged metric value into the (value, is_nan) pair MLflow's SQL store
// writes: NaN becomes 0 with is_nan set, ±Inf becomes ±MaxFloat64.
func Sanitize(v float64) (value float64, isNaN bool) {
	switch {
	case math.IsNaN(v):
		return 0, true
	case math.IsInf(v, 1):
		return maxFloat64, false
	case math.IsInf(v, -1):
		return -maxFloat64, false
	}
	return v, false
}

// MetricPoint is a sanitised metric point: one row of MLflow's metrics table.
type MetricPoint struct {
	Key       string  `json:"key"`
	Value     float64 `json:"value"`
	Timestamp int64   `json:"timestamp"`
	Step      int64   `json:"step"`
	IsNaN     bool    `json:"is_nan"`
}

// Supersedes reports whether p replaces the current latest point c under MLflow's rule:
// (step, timestamp, sanitised value) strictly greater, compared in that order. Equal
// tuples keep the point logged first, which decides is_nan when NaN (value 0) meets 0.
func (p MetricPoint) Supersedes(c MetricPoint) bool {
	if p.Step != c.Step {
		return p.Step > c.Step
	}
	if p.Timestamp != c.Timestamp {
		return p.Timestamp > c.Timestamp
	}
	return p.Value > c.Value
}

// LatestMetrics tracks the latest point per key of one run while its history streams
// by in logging order.
type LatestMetrics struct {
	byKey map[string]MetricPoint
	order []string // first-seen order, so output is deterministic
}

// NewLatestMetrics returns an empty tracker.
func NewLatestMetrics() *LatestMetrics { return &LatestMetrics{byKey: map[string]MetricPoint{}} }

// Observe feeds one point, in logging order.
func (l *LatestMetrics) Observe(p MetricPoint) {
	c, ok := l.byKey[p.Key]
	if !ok {
		l.order = append(l.order, p.Key)
		l.byKey[p.Key] = p
		return
	}
	if p.Supersedes(c) {
		l.byKey[p.Key] = p
	}
}

// Points returns the latest point of every key seen, in first-seen order.
func (l *LatestMetrics) Points() []MetricPoint {
	out := make([]MetricPoint, 0, len(l.order))
	for _, k := range l.order {
		out = append(out, l.byKey[k])
	}
	return out
}

// Reset empties the tracker for the next run, keeping its memory.
func (l *LatestMetrics) Reset() {
	clear(l.byKey)
	l.order = l.order[:0]
}

// Seen reports whether a point of key has been observed since the last Reset.
func (l *LatestMetrics) Seen(key string) bool {
	_, ok := l.byKey[key]
	return ok
}
