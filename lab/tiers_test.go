package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

func TestLabRECs(t *testing.T) {
	for _, tc := range []struct {
		regions []string
		oneTier bool
		want    []string
	}{
		{nil, false, []string{"us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1"}},
		{[]string{"ap-southeast-2"}, false, []string{"ap-northeast-1"}},
		{[]string{"eu-west-1", "sa-east-1"}, false, []string{"us-east-1", "eu-central-1"}},
		{nil, true, nil},
	} {
		c, err := Config{Regions: tc.regions, OneTier: tc.oneTier}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		if got := c.labRECs(); !equalStrings(got, tc.want) {
			t.Errorf("labRECs(%v, oneTier %v) = %v, want %v", tc.regions, tc.oneTier, got, tc.want)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLabTwoTiers: the first request from Tokyo misses at NRT and at the
// REC; Sydney, in the same REC's area, hits at the REC; both tiers have
// their own status rows.
func TestLabTwoTiers(t *testing.T) {
	l := startLab(t, "ap-northeast-1", "ap-southeast-2")
	ep := l.Endpoints()
	if len(ep.Edges) != 2 || len(ep.RECs) != 1 || ep.RECs[0].PoP != "ap-northeast-1" || ep.RECs[0].Role != "rec" {
		t.Fatalf("edges %+v, recs %+v: want 2 PoPs and REC ap-northeast-1", ep.Edges, ep.RECs)
	}
	path := ep.Gateway + "/objects/512?x=" + t.Name()
	r1, _ := get(t, path, map[string]string{"X-Viewer-Region": "ap-northeast-1"})
	r2, body := get(t, path, map[string]string{"X-Viewer-Region": "ap-southeast-2"})
	for _, c := range []struct {
		name          string
		got           map[string]string
		pop, recCache string
	}{
		{"Tokyo", map[string]string{"pop": r1.Header.Get("X-Edgelab-Pop"), "rc": r1.Header.Get("X-Edgelab-Rec-Cache"), "x": r1.Header.Get("X-Cache"), "rec": r1.Header.Get("X-Edgelab-Rec")}, "NRT", "Miss from edgelab"},
		{"Sydney", map[string]string{"pop": r2.Header.Get("X-Edgelab-Pop"), "rc": r2.Header.Get("X-Edgelab-Rec-Cache"), "x": r2.Header.Get("X-Cache"), "rec": r2.Header.Get("X-Edgelab-Rec")}, "SYD", "Hit from edgelab"},
	} {
		if c.got["pop"] != c.pop || c.got["x"] != "Miss from edgelab" || c.got["rec"] != "ap-northeast-1" || c.got["rc"] != c.recCache {
			t.Errorf("%s: %v, want pop %s, X-Cache Miss, REC ap-northeast-1 %s", c.name, c.got, c.pop, c.recCache)
		}
	}
	if len(body) != 512 {
		t.Errorf("body length %d", len(body))
	}
	// Each PoP appends a CloudFront standard access log line per viewer request.
	logPath := filepath.Join(l.cfg.DataDir, "nodes", "edge-ap-northeast-1-1", "access.log")
	poll.Until(t, 10*time.Second, "NRT's access log line", func() error {
		data, err := os.ReadFile(logPath)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(string(data), "#Version: 1.0\n#Fields: date time x-edge-location") || !strings.Contains(string(data), "\tNRT\t") || !strings.Contains(string(data), "\t/objects/512\t200\t") {
			return fmt.Errorf("access log: %q", data)
		}
		return nil
	})
	st, err := l.Client().GetStatus(context.Background(), &edgelabv1.GetStatusRequest{DistributionId: SampleDistributionID})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int32{}
	for _, d := range st.GetDistributions() {
		for _, r := range d.GetRegions() {
			rows[r.GetRegion()+"/"+r.GetRole()] = r.GetNodes()
		}
	}
	want := map[string]int32{"ap-northeast-1/pop": 1, "ap-northeast-1/rec": 1, "ap-southeast-2/pop": 1}
	for k, v := range want {
		if rows[k] != v {
			t.Errorf("status rows %v, want %v", rows, want)
			break
		}
	}
}

// TestLabLatencyModelConfig: LatencyScale builds the one model the lab
// hands its gateway and every node; a bad scale or fetch region is an
// error before anything starts.
func TestLabLatencyModelConfig(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil || c.latency != nil {
		t.Fatalf("default: model %v, err %v; want off", c.latency, err)
	}
	c, err = Config{LatencyScale: 0.5, FetchRegions: map[string]string{"auth.test": "eu-west-1"}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.latency.Scale() != 0.5 || c.latency.FetchRegion("auth.test") != "eu-west-1" || c.latency.Home() != "us-east-1" {
		t.Errorf("model: scale %v, auth.test in %q, home %q", c.latency.Scale(), c.latency.FetchRegion("auth.test"), c.latency.Home())
	}
	if tour := Tour(Endpoints{LatencyScale: c.latency.Scale()}, "lab.json", 0); !strings.Contains(tour, "latency model   on, scale 0.5") {
		t.Errorf("the tour does not say the model is on:\n%s", tour)
	}
	for _, bad := range []Config{{LatencyScale: -1}, {LatencyScale: 1, FetchRegions: map[string]string{"auth.test": "mars"}},
		{FetchRegions: map[string]string{"auth.test": "us-east-1"}}} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
