package chaos

import (
	"sort"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

// maxBuckets bounds the timeline's resolution: a long run gets wider buckets.
const maxBuckets = 600

// Timeline is the run condensed for drawing: request rate and errors per
// edge in fixed buckets, and each node's applied revision as a step line.
// Offsets are from the load start.
type Timeline struct {
	Bucket time.Duration  `json:"bucket"`
	Length time.Duration  `json:"length"`
	Edges  []EdgeSeries   `json:"edges,omitempty"`
	Nodes  []RevisionLine `json:"nodes,omitempty"`
}

// EdgeSeries counts the requests an edge answered ("" = none answered),
// and the failed ones, per bucket.
type EdgeSeries struct {
	Edge     string `json:"edge"`
	Requests []int  `json:"requests"`
	Errors   []int  `json:"errors"`
}

// RevisionLine is one node's applied revisions over the run.
type RevisionLine struct {
	Node   string          `json:"node"`
	Region string          `json:"region"`
	Points []RevisionPoint `json:"points"`
}

// RevisionPoint is a revision a node applied and when.
type RevisionPoint struct {
	At       time.Duration `json:"at"`
	Revision int64         `json:"revision"`
}

func buildTimeline(start, end time.Time, reqs []history.Request, nodes []history.NodeHistory) Timeline {
	length := max(end.Sub(start), time.Second)
	bucket := time.Second
	for length/bucket > maxBuckets {
		bucket *= 2
	}
	n := int(length/bucket) + 1
	tl := Timeline{Bucket: bucket, Length: length}
	series := map[string]*EdgeSeries{}
	for _, r := range reqs {
		i := int(r.Start.Sub(start) / bucket)
		if i < 0 || i >= n {
			continue
		}
		edge := r.ServedBy()
		s := series[edge]
		if s == nil {
			s = &EdgeSeries{Edge: edge, Requests: make([]int, n), Errors: make([]int, n)}
			series[edge] = s
		}
		s.Requests[i]++
		if r.Failed() {
			s.Errors[i]++
		}
	}
	for _, s := range series {
		tl.Edges = append(tl.Edges, *s)
	}
	sort.Slice(tl.Edges, func(i, j int) bool { return tl.Edges[i].Edge < tl.Edges[j].Edge })
	for _, nh := range nodes {
		line := RevisionLine{Node: nh.Node, Region: nh.Region}
		for _, a := range nh.Applied {
			line.Points = append(line.Points, RevisionPoint{At: a.Time.Sub(start), Revision: a.Revision})
		}
		tl.Nodes = append(tl.Nodes, line)
	}
	return tl
}
