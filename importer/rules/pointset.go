package rules

// PointSet remembers the metric points of the run being imported, so that each point is
// stored once (MLflow's key is the whole point: key, timestamp, step, value, is_nan).
// It holds every point up to exactPoints; past that, a run of tens of millions of points
// would hold them all, so it keeps only the last windowPoints of them. Repeats come from
// logging the same point twice, next to each other in the history, which the window
// catches; the rest of a history that long is left to the database's own key.
type PointSet struct {
	exact map[PointKey]struct{}
	// window and ring are the last windowPoints points once the set is bounded.
	window  map[PointKey]int
	ring    []PointKey
	next    int
	bounded bool
	// Whole keeps every point: the set holds the target's points of a run being merged,
	// which new points are told apart from.
	Whole bool
}

const (
	ExactPoints  = 250_000
	WindowPoints = 1 << 16
)

func NewPointSet() *PointSet {
	return &PointSet{exact: map[PointKey]struct{}{}, window: map[PointKey]int{}}
}

func (s *PointSet) Has(k PointKey) bool {
	if _, ok := s.exact[k]; ok {
		return true
	}
	return s.window[k] > 0
}

// Add remembers a point; it reports whether the set just became bounded. The window
// is kept from the first point, so that it holds the last points when the exact set is
// let go.
func (s *PointSet) Add(k PointKey) bool {
	if s.Whole {
		s.exact[k] = struct{}{}
		return false
	}
	s.push(k)
	if s.bounded {
		return false
	}
	s.exact[k] = struct{}{}
	if len(s.exact) < ExactPoints {
		return false
	}
	s.bounded, s.exact = true, nil // from here on only the window
	return true
}

func (s *PointSet) push(k PointKey) {
	if len(s.ring) < WindowPoints {
		s.ring = append(s.ring, k)
	} else {
		old := s.ring[s.next]
		if s.window[old]--; s.window[old] <= 0 {
			delete(s.window, old)
		}
		s.ring[s.next] = k
		s.next = (s.next + 1) % WindowPoints
	}
	s.window[k]++
}

type PointKey struct {
	Key       string
	Value     float64
	Timestamp int64
	Step      int64
	IsNaN     bool
}

// KeyOf is the key a point is stored under, as MLflow's metrics table keys it.
func KeyOf(p MetricPoint) PointKey {
	return PointKey(p)
}
