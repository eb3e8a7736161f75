package detect

import "sync/atomic"

// RuleSet holds the rules in force where they can change while a server
// runs: readers always see one whole set, never a half-updated one.
type RuleSet struct {
	p atomic.Pointer[Rules]
}

// NewRuleSet returns a set holding r.
func NewRuleSet(r Rules) *RuleSet {
	s := &RuleSet{}
	s.Store(r)
	return s
}

// Load returns the rules in force.
func (s *RuleSet) Load() Rules { return *s.p.Load() }

// Store replaces the rules in force.
func (s *RuleSet) Store(r Rules) { s.p.Store(&r) }
