package fault

import (
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

func TestParseAndFold(t *testing.T) {
	tests := []struct {
		name   string
		faults []*edgelabv1.Fault
		want   Channel
	}{
		{"none", nil, Channel{}},
		{"partition unset direction cuts", []*edgelabv1.Fault{{Kind: KindPartition}}, Channel{CutStream: true}},
		{"partition both", []*edgelabv1.Fault{{Kind: KindPartition, Direction: DirectionBoth}}, Channel{CutStream: true}},
		{"partition to-node", []*edgelabv1.Fault{{Kind: KindPartition, Direction: DirectionToNode}}, Channel{HoldToNode: true}},
		{"partition to-controlplane", []*edgelabv1.Fault{{Kind: KindPartition, Direction: DirectionToControlPlane}}, Channel{IgnoreFromNode: true}},
		{"largest delay wins", []*edgelabv1.Fault{
			{Kind: KindDelay, Latency: durationpb.New(time.Second)},
			{Kind: KindDelay, Latency: durationpb.New(3 * time.Second)},
			{Kind: KindDelay, Latency: durationpb.New(2 * time.Second)},
		}, Channel{ExtraDelay: 3 * time.Second}},
		{"unset rate means every update", []*edgelabv1.Fault{{Kind: KindDrop}, {Kind: KindDuplicate}}, Channel{DropRate: 1, DuplicateRate: 1}},
		{"largest rate wins", []*edgelabv1.Fault{{Kind: KindDrop, Rate: 0.2}, {Kind: KindDrop, Rate: 0.5}}, Channel{DropRate: 0.5}},
		{"other kinds ignored", []*edgelabv1.Fault{{Kind: "health-fail"}, {Kind: "stop"}, {Kind: ""}}, Channel{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ch Channel
			for _, f := range tt.faults {
				if p, ok := Parse(f); ok {
					p.Act(&ch)
				}
			}
			if ch != tt.want {
				t.Fatalf("folded %+v, want %+v", ch, tt.want)
			}
			if ch.Any() != (tt.want != Channel{}) {
				t.Fatalf("Any() = %v for %+v", ch.Any(), ch)
			}
		})
	}
}

func TestCopies(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	count := func(ch Channel) map[int]int {
		got := map[int]int{}
		for range 1000 {
			got[ch.Copies(rnd)]++
		}
		return got
	}
	if got := count(Channel{}); got[1] != 1000 {
		t.Fatalf("healthy channel copies %v, want always 1", got)
	}
	if got := count(Channel{DropRate: 1, DuplicateRate: 1}); got[0] != 1000 {
		t.Fatalf("drop-all copies %v, want always 0 (drop before duplicate)", got)
	}
	if got := count(Channel{DuplicateRate: 1}); got[2] != 1000 {
		t.Fatalf("duplicate-all copies %v, want always 2", got)
	}
	got := count(Channel{DropRate: 0.5})
	if got[0] < 400 || got[0] > 600 || got[0]+got[1] != 1000 {
		t.Fatalf("half drop copies %v, want about 500 dropped", got)
	}
}
