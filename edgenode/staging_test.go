package edgenode

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// stagingSnapshot is snapshot's distribution "d" as a primary whose policy
// cd routes to the staging distribution "s", whose origin is staging.
func stagingSnapshot(rev int64, primary, staging string, cd *edgelabv1.ContinuousDeployment) *edgelabv1.Snapshot {
	snap := snapshot(rev, primary, "", &edgelabv1.Behavior{})
	cd.StagingDistributionId, cd.Enabled = "s", true
	snap.Distributions[0].ContinuousDeployment = cd
	snap.Distributions = append(snap.Distributions, &edgelabv1.Distribution{Id: "s", Staging: true,
		Origins:   []*edgelabv1.Origin{{Id: "o1", Url: staging}},
		Behaviors: []*edgelabv1.Behavior{{Path: "default", Origin: "o1"}}})
	return snap
}

func TestContinuousDeploymentByHeader(t *testing.T) {
	prod, stage := newCountingOrigin(t, okHandler("max-age=600")), newCountingOrigin(t, okHandler("max-age=600"))
	n := startNode(t, newFakeRunner(), nil)
	cd := &edgelabv1.ContinuousDeployment{Traffic: &edgelabv1.ContinuousDeployment_Header{Header: &edgelabv1.StagingHeader{Header: "aws-cf-cd-test", Value: "yes"}}}
	if err := n.Apply(context.Background(), stagingSnapshot(1, prod.URL, stage.URL, cd), nil); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		hdr         map[string]string
		wantStaging bool
	}{
		{nil, false}, {map[string]string{"aws-cf-cd-test": "yes"}, true}, {map[string]string{"aws-cf-cd-test": "no"}, false},
		{map[string]string{"Aws-Cf-Cd-Test": "yes"}, true}, // header names are case-insensitive
	} {
		r := do(t, n, "GET", "/obj", tc.hdr, "")
		if got := r.header.Get(xStaging) == "s"; got != tc.wantStaging || r.status != 200 {
			t.Errorf("request %d %v: status %d, served by staging %v, want %v", i, tc.hdr, r.status, got, tc.wantStaging)
		}
	}
	// Staging and primary do not share a cache: each origin saw /obj once.
	if prod.hits.Load() != 1 || stage.hits.Load() != 1 {
		t.Errorf("origin requests: primary %d, staging %d; want 1 and 1", prod.hits.Load(), stage.hits.Load())
	}
}

func TestContinuousDeploymentByWeight(t *testing.T) {
	prod, stage := newCountingOrigin(t, okHandler("no-store")), newCountingOrigin(t, okHandler("no-store"))
	n := startNode(t, newFakeRunner(), nil)
	cd := &edgelabv1.ContinuousDeployment{Traffic: &edgelabv1.ContinuousDeployment_Weight{Weight: &edgelabv1.StagingWeight{Weight: 0.15}}}
	if err := n.Apply(context.Background(), stagingSnapshot(1, prod.URL, stage.URL, cd), nil); err != nil {
		t.Fatal(err)
	}
	const N = 1000
	staged := 0
	for i := range N {
		r := do(t, n, "GET", fmt.Sprintf("/o%d", i), nil, "")
		if r.header.Get(xStaging) == "s" {
			staged++
		}
		if r.header.Get("Set-Cookie") != "" {
			t.Fatalf("a session cookie without session stickiness: %q", r.header.Get("Set-Cookie"))
		}
	}
	// 15% of 1000 is 150 with a standard deviation of about 11.
	if staged < 100 || staged > 200 || int64(staged) != stage.hits.Load() {
		t.Errorf("staging served %d of %d (its origin saw %d), want about 150", staged, N, stage.hits.Load())
	}
}

func TestContinuousDeploymentSessionStickiness(t *testing.T) {
	prod, stage := newCountingOrigin(t, okHandler("no-store")), newCountingOrigin(t, okHandler("no-store"))
	n := startNode(t, newFakeRunner(), nil)
	now := time.Unix(1_800_000_000, 0)
	n.now = func() time.Time { return now }
	sticky := &edgelabv1.SessionStickiness{IdleTtl: durationpb.New(5 * time.Minute), MaximumTtl: durationpb.New(10 * time.Minute)}
	cd := &edgelabv1.ContinuousDeployment{Traffic: &edgelabv1.ContinuousDeployment_Weight{Weight: &edgelabv1.StagingWeight{Weight: 0.15, SessionStickiness: sticky}}}
	if err := n.Apply(context.Background(), stagingSnapshot(1, prod.URL, stage.URL, cd), nil); err != nil {
		t.Fatal(err)
	}
	// Find a viewer the draw sent to staging; its cookie keeps it there.
	var cookie string
	for i := 0; i < 200 && cookie == ""; i++ {
		if r := do(t, n, "GET", "/a", nil, ""); r.header.Get(xStaging) == "s" {
			cookie = r.header.Get("Set-Cookie")
		}
	}
	if !strings.HasPrefix(cookie, stagingCookie+"=s.") || !strings.Contains(cookie, "Max-Age=300") {
		t.Fatalf("staging session cookie = %q", cookie)
	}
	value := strings.SplitN(cookie, ";", 2)[0]
	for i := range 20 {
		if r := do(t, n, "GET", "/a", map[string]string{"Cookie": value}, ""); r.header.Get(xStaging) != "s" {
			t.Fatalf("request %d with the staging session cookie served by the primary", i)
		}
	}
	// Past the maximum TTL the session ends and the viewer is drawn again:
	// most draws go to the primary.
	now = now.Add(11 * time.Minute)
	primary := 0
	for range 20 {
		if r := do(t, n, "GET", "/a", map[string]string{"Cookie": value}, ""); r.header.Get(xStaging) == "" {
			primary++
		}
	}
	if primary < 10 {
		t.Errorf("after the maximum TTL only %d of 20 requests were drawn to the primary", primary)
	}
	// A forged or malformed cookie is ignored, not trusted as a session.
	for _, bad := range []string{stagingCookie + "=x.1", stagingCookie + "=s.notanumber", stagingCookie + "=s." + fmt.Sprint(now.Add(time.Hour).Unix())} {
		if _, _, ok := parseStagingCookie(http.Header{"Cookie": {bad}}, now); ok {
			t.Errorf("cookie %q accepted", bad)
		}
	}
}

// A staging distribution has no domains: a viewer cannot reach it
// directly, and a disabled policy routes nothing to it.
func TestStagingUnreachableDirectlyAndWhenDisabled(t *testing.T) {
	prod, stage := newCountingOrigin(t, okHandler("no-store")), newCountingOrigin(t, okHandler("no-store"))
	n := startNode(t, newFakeRunner(), nil)
	cd := &edgelabv1.ContinuousDeployment{Traffic: &edgelabv1.ContinuousDeployment_Header{Header: &edgelabv1.StagingHeader{Header: "aws-cf-cd-test", Value: "yes"}}}
	snap := stagingSnapshot(1, prod.URL, stage.URL, cd)
	snap.Distributions[0].ContinuousDeployment.Enabled = false
	if err := n.Apply(context.Background(), snap, nil); err != nil {
		t.Fatal(err)
	}
	if r := do(t, n, "GET", "/x", map[string]string{"aws-cf-cd-test": "yes", "Host": "s"}, ""); r.header.Get(xStaging) != "" || stage.hits.Load() != 0 {
		t.Errorf("disabled policy: served by staging %q, staging origin requests %d", r.header.Get(xStaging), stage.hits.Load())
	}
}

// Over two tiers the REC serves the distribution the PoP chose: a request
// routed to staging reaches the staging origin through the REC.
func TestContinuousDeploymentAcrossTiers(t *testing.T) {
	prod, stage := newCountingOrigin(t, okHandler("max-age=600")), newCountingOrigin(t, okHandler("max-age=600"))
	cd := &edgelabv1.ContinuousDeployment{Traffic: &edgelabv1.ContinuousDeployment_Header{Header: &edgelabv1.StagingHeader{Header: "aws-cf-cd-test", Value: "yes"}}}
	tn := newTierNet(t, stagingSnapshot(1, prod.URL, stage.URL, cd), newFakeRunner(), newFakeRunner(), "A1")
	r := do(t, tn.pops["A1"], "GET", "/obj", map[string]string{"aws-cf-cd-test": "yes"}, "")
	if r.header.Get(xStaging) != "s" || r.header.Get("X-Edgelab-Rec") == "" || stage.hits.Load() != 1 || prod.hits.Load() != 0 {
		t.Fatalf("staging via the REC: staging %q rec %q, origin requests staging %d primary %d",
			r.header.Get(xStaging), r.header.Get("X-Edgelab-Rec"), stage.hits.Load(), prod.hits.Load())
	}
	do(t, tn.pops["A1"], "GET", "/obj", nil, "")
	if prod.hits.Load() != 1 {
		t.Errorf("primary origin requests = %d, want 1 (the REC keeps the two caches apart)", prod.hits.Load())
	}
}
