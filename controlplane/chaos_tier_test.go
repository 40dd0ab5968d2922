package controlplane

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

func TestValidateTierFaults(t *testing.T) {
	ms := durationpb.New(200 * time.Millisecond)
	tests := []struct {
		f    *edgelabv1.Fault
		want string // "" = valid
	}{
		{&edgelabv1.Fault{Kind: KindTierLatency, Target: "node:rec-us-east-1", Latency: ms}, ""},
		{&edgelabv1.Fault{Kind: KindTierLatency, Target: "region:us-east-1", Latency: ms}, ""},
		{&edgelabv1.Fault{Kind: KindTierPartition, Target: "node:rec-us-east-1"}, ""},
		{&edgelabv1.Fault{Kind: KindTierLatency, Target: "node:rec-us-east-1"}, "needs a positive latency"},
		{&edgelabv1.Fault{Kind: KindTierLatency, Target: "origin:web", Latency: ms}, "targets node or region"},
		{&edgelabv1.Fault{Kind: KindTierPartition, Target: "node:rec-us-east-1", Latency: ms}, "has no latency"},
		{&edgelabv1.Fault{Kind: KindTierPartition, Target: "node:rec-us-east-1", Direction: DirectionBoth}, "only a partition has a direction"},
	}
	for _, tt := range tests {
		err := ValidateFault(tt.f)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s %s: %v", tt.f.GetKind(), tt.f.GetTarget(), err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s %s: error %v, want one containing %q", tt.f.GetKind(), tt.f.GetTarget(), err, tt.want)
		}
	}
}
