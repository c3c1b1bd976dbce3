package importer

// idSet is a set of experiment ids. Ids are mostly small and dense (MLflow counts them
// up from 0), so those below denseIDs are bits of a slice that grows to the largest one
// held: a few bytes for 100 k experiments where a map takes megabytes. Others (ids made
// elsewhere, such as Databricks' 16-digit ones) go to a map.
type idSet struct {
	bits   []uint64
	sparse map[int64]bool
}

// denseIDs bounds the ids kept as bits: their slice is at most 8 MiB.
const denseIDs = 1 << 26

func (s *idSet) add(id int64) {
	if id < 0 || id >= denseIDs {
		if s.sparse == nil {
			s.sparse = map[int64]bool{}
		}
		s.sparse[id] = true
		return
	}
	word := int(id / 64)
	if word >= len(s.bits) {
		grown := make([]uint64, max(word+1, 2*len(s.bits)))
		copy(grown, s.bits)
		s.bits = grown
	}
	s.bits[word] |= 1 << (uint64(id) % 64)
}

func (s *idSet) has(id int64) bool {
	if id < 0 || id >= denseIDs {
		return s.sparse[id]
	}
	word := int(id / 64)
	return word < len(s.bits) && s.bits[word]&(1<<(uint64(id)%64)) != 0
}
