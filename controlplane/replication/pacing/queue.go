package pacing

import (
	"math/rand/v2"
	"time"

	"github.com/edgelab/edgelab/topology"
)

// Model is the delay model of one node: its region's modelled delay.
type Model struct {
	// Topology and Profile give the delay; a zero Profile ("instant") is no delay.
	Topology *topology.Topology
	Profile  topology.Profile
	// Region is the node's region; an unknown region gets the profile's
	// stage and jitter delay only.
	Region string
	// Rand draws the jitter; nil means none.
	Rand *rand.Rand
}

// Delay is the modelled delay of one update.
func (m Model) Delay() time.Duration {
	return m.Profile.Delay(m.Region, m.Topology.Home(), m.Topology, m.Rand)
}

// Item is one update waiting in a Queue.
type Item[T any] struct {
	// Value is the update.
	Value T
	// Revision is the update's revision; Changed when the change was seen.
	Revision int64
	Changed  time.Time
	// base is Changed plus the modelled delay; eligible adds the extra delay
	// and is kept in order.
	base, eligible time.Time
}

// Queue holds one node's updates in order until each is due.
type Queue[T any] struct {
	model        Model
	extra        time.Duration
	items        []Item[T]
	lastEligible time.Time
}

// NewQueue returns an empty queue paced by model.
func NewQueue[T any](model Model) *Queue[T] { return &Queue[T]{model: model} }

// Push queues an update seen at changed.
func (q *Queue[T]) Push(v T, rev int64, changed time.Time) {
	it := Item[T]{Value: v, Revision: rev, Changed: changed, base: changed.Add(q.model.Delay())}
	it.eligible = q.order(it.base.Add(q.extra))
	q.items = append(q.items, it)
}

// order keeps eligibility times from going back, so nothing overtakes.
func (q *Queue[T]) order(e time.Time) time.Time {
	if e.Before(q.lastEligible) {
		e = q.lastEligible
	}
	q.lastEligible = e
	return e
}

// SetExtra sets the chaos delay added to every update and re-times what waits.
func (q *Queue[T]) SetExtra(extra time.Duration) {
	if extra == q.extra {
		return
	}
	q.extra, q.lastEligible = extra, time.Time{}
	for i := range q.items {
		q.items[i].eligible = q.order(q.items[i].base.Add(extra))
	}
}

// Reset drops every waiting update (a snapshot replaces them).
func (q *Queue[T]) Reset() { q.items = q.items[:0] }

// Len is the number of waiting updates.
func (q *Queue[T]) Len() int { return len(q.items) }

// Due removes and returns the head when it is eligible at now.
func (q *Queue[T]) Due(now time.Time) (Item[T], bool) {
	if len(q.items) == 0 || q.items[0].eligible.After(now) {
		return Item[T]{}, false
	}
	it := q.items[0]
	q.items = q.items[1:]
	return it, true
}

// Next is when the head becomes eligible; ok is false when the queue is empty.
func (q *Queue[T]) Next() (at time.Time, ok bool) {
	if len(q.items) == 0 {
		return time.Time{}, false
	}
	return q.items[0].eligible, true
}
