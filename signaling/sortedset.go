package signaling

import (
	"slices"
	"strings"
)

// sortedSet is a set of strings kept in order, in chunks of at most
// chunkMax: inserting or removing moves at most one chunk, and finding a
// position is two binary searches, so a page of a sorted listing costs
// O(log n + page) whatever the set's size. Not safe for concurrent use:
// its owner's lock guards it.
type sortedSet struct {
	chunks [][]string // each sorted, non-empty; chunks in order
	n      int
}

const chunkMax = 512

func (s *sortedSet) len() int { return s.n }

// locate returns the chunk where k is or would go.
func (s *sortedSet) locate(k string) int {
	// The first chunk whose last element is >= k; the last chunk if none.
	ci, _ := slices.BinarySearchFunc(s.chunks, k, func(c []string, k string) int {
		return strings.Compare(c[len(c)-1], k)
	})
	if ci == len(s.chunks) && ci > 0 {
		ci--
	}
	return ci
}

func (s *sortedSet) insert(k string) bool {
	if len(s.chunks) == 0 {
		s.chunks = append(s.chunks, []string{k})
		s.n = 1
		return true
	}
	ci := s.locate(k)
	c := s.chunks[ci]
	i, found := slices.BinarySearch(c, k)
	if found {
		return false
	}
	c = slices.Insert(c, i, k)
	if len(c) > chunkMax {
		half := len(c) / 2
		right := slices.Clone(c[half:])
		clear(c[half:]) // the strings live on in right only
		c = c[:half]
		s.chunks = slices.Insert(s.chunks, ci+1, right)
	}
	s.chunks[ci] = c
	s.n++
	return true
}

func (s *sortedSet) remove(k string) bool {
	if len(s.chunks) == 0 {
		return false
	}
	ci := s.locate(k)
	c := s.chunks[ci]
	i, found := slices.BinarySearch(c, k)
	if !found {
		return false
	}
	c = slices.Delete(c, i, i+1)
	if len(c) == 0 {
		s.chunks = slices.Delete(s.chunks, ci, ci+1)
	} else {
		s.chunks[ci] = c
	}
	s.n--
	return true
}

// rank is the number of elements less than k.
func (s *sortedSet) rank(k string) int {
	if len(s.chunks) == 0 {
		return 0
	}
	ci := s.locate(k)
	r := 0
	for _, c := range s.chunks[:ci] {
		r += len(c)
	}
	i, _ := slices.BinarySearch(s.chunks[ci], k)
	return r + i
}

// ascend calls fn with the elements >= from (> from when after is set), in
// order, until fn returns false.
func (s *sortedSet) ascend(from string, after bool, fn func(string) bool) {
	if len(s.chunks) == 0 {
		return
	}
	ci := s.locate(from)
	i, found := slices.BinarySearch(s.chunks[ci], from)
	if found && after {
		i++
	}
	for ; ci < len(s.chunks); ci, i = ci+1, 0 {
		for _, k := range s.chunks[ci][i:] {
			if !fn(k) {
				return
			}
		}
	}
}

// countPrefix counts the elements that start with prefix.
func (s *sortedSet) countPrefix(prefix string) int {
	if prefix == "" {
		return s.n
	}
	if end, ok := prefixEnd(prefix); ok {
		return s.rank(end) - s.rank(prefix)
	}
	return s.n - s.rank(prefix)
}

// prefixEnd is the least string greater than every string starting with
// prefix; ok is false when there is none (prefix is all 0xff bytes).
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}
