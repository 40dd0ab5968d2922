package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/topology"
)

func TestMain(m *testing.M) {
	sandbox.MaybeRunWorker()
	os.Exit(m.Run())
}

// startLab brings up a small all-in-one lab on free ports.
func startLab(t *testing.T, regions ...string) *Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := Start(ctx, Config{
		DataDir:  t.TempDir(),
		Topology: topology.Default(),
		Profile:  "instant",
		Regions:  regions,
		BasePort: 0,
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Logf("Close: %v", err)
		}
	})
	return l
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestAllInOneServesSampleThroughGateway(t *testing.T) {
	l := startLab(t, "us-east-1", "eu-west-1", "ap-northeast-1", "sa-east-1")
	ep := l.Endpoints()
	if len(ep.ControlPlanes) != 2 || len(ep.Edges) != 4 || len(ep.Origins) != 3 || ep.Gateway == "" || ep.Token == "" {
		t.Fatalf("endpoints incomplete: %+v", ep)
	}
	// lab.json holds the same endpoints.
	data, err := os.ReadFile(l.EndpointsFile())
	if err != nil {
		t.Fatal(err)
	}
	var fromFile Endpoints
	if err := json.Unmarshal(data, &fromFile); err != nil {
		t.Fatalf("lab.json: %v", err)
	}
	if fromFile.Gateway != ep.Gateway || len(fromFile.Edges) != 4 {
		t.Fatalf("lab.json = %+v, want %+v", fromFile, ep)
	}

	// Miss then Hit, from the nearest edge of the viewer's region.
	path := ep.Gateway + "/objects/1024?x=" + t.Name()
	r1, _ := get(t, path, map[string]string{"X-Viewer-Region": "eu-west-1"})
	r2, body := get(t, path, map[string]string{"X-Viewer-Region": "eu-west-1"})
	if r1.Header.Get("X-Cache") != "Miss from edgelab" || r2.Header.Get("X-Cache") != "Hit from edgelab" {
		t.Fatalf("X-Cache = %q then %q, want Miss then Hit", r1.Header.Get("X-Cache"), r2.Header.Get("X-Cache"))
	}
	if got := r2.Header.Get("X-Edgelab-Node"); got != "edge-eu-west-1-1" {
		t.Fatalf("served by %q, want edge-eu-west-1-1", got)
	}
	if len(body) != 1024 {
		t.Fatalf("body length %d, want 1024", len(body))
	}

	// /assets/* comes from the S3-mode origin, as S3 answers: the bucket
	// from the origin's path, an ETag and the object's metadata.
	ra, abody := get(t, ep.Gateway+"/assets/logo.txt", nil)
	if ra.StatusCode != http.StatusOK || ra.Header.Get("ETag") == "" || ra.Header.Get("X-Amz-Meta-Bucket") != S3Bucket ||
		!strings.Contains(abody, "assets/logo.txt") {
		t.Fatalf("/assets/logo.txt: %d %v %q, want 200 from bucket %s with an ETag", ra.StatusCode, ra.Header, abody, S3Bucket)
	}

	// The JWT example flow: 403 without a token, 200 with one.
	r403, _ := get(t, ep.Gateway+"/api/items", nil)
	if r403.StatusCode != http.StatusForbidden || !strings.Contains(r403.Header.Get("X-Edgelab-Functions"), "viewer-request=auth:") {
		t.Fatalf("no token: status %d functions %q, want 403 by auth", r403.StatusCode, r403.Header.Get("X-Edgelab-Functions"))
	}
	r200, _ := get(t, ep.Gateway+"/api/items", map[string]string{"Authorization": "Bearer " + ep.Token, "X-Viewer-Region": "ap-northeast-1"})
	if r200.StatusCode != http.StatusOK {
		t.Fatalf("with token: status %d, want 200", r200.StatusCode)
	}
	if fn := r200.Header.Get("X-Edgelab-Functions"); !strings.Contains(fn, "viewer-request=auth:") || !strings.Contains(fn, "origin-response=headers:") {
		t.Fatalf("X-Edgelab-Functions = %q", fn)
	}
	if r200.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("security headers missing: %v", r200.Header)
	}

	// The dashboard shows every node, the distribution's state and its functions.
	if ep.Dashboard == "" {
		t.Fatal("no dashboard endpoint")
	}
	rd, page := get(t, ep.Dashboard, nil)
	if rd.StatusCode != http.StatusOK || !strings.Contains(page, "edgelab dashboard") {
		t.Fatalf("dashboard page: %d", rd.StatusCode)
	}
	// What the page draws is JSON next to it, filled in by the dashboard's
	// first poll.
	poll.Until(t, 30*time.Second, "the dashboard's state", func() error {
		_, state := get(t, ep.Dashboard+"api/state", nil)
		for _, want := range []string{"edge-eu-west-1-1", "edge-sa-east-1-1", "Deployed", "auth:", "demo"} {
			if !strings.Contains(state, want) {
				return fmt.Errorf("dashboard state lacks %q: %.300s", want, state)
			}
		}
		return nil
	})

	// A page generated at the edge.
	rh, hb := get(t, ep.Gateway+"/hello", nil)
	if rh.StatusCode != http.StatusOK || hb == "" {
		t.Fatalf("/hello: %d %q", rh.StatusCode, hb)
	}
}

func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := Config{DataDir: dir, Profile: "instant", Regions: []string{"us-east-1"}, ControlPlanes: 1}
	l, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fns1, err := l.Client().ListFunctions(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	l2, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer l2.Close()
	fns2, err := l2.Client().ListFunctions(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(fns1.GetFunctions()) == 0 || len(fns1.GetFunctions()) != len(fns2.GetFunctions()) {
		t.Fatalf("functions before %d after %d", len(fns1.GetFunctions()), len(fns2.GetFunctions()))
	}
	for i, f := range fns2.GetFunctions() {
		if f.GetLatestVersion() != fns1.GetFunctions()[i].GetLatestVersion() {
			t.Fatalf("%s: version %d after restart, was %d (unchanged code must not republish)", f.GetName(), f.GetLatestVersion(), fns1.GetFunctions()[i].GetLatestVersion())
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown profile", Config{Profile: "warp"}, "unknown delay profile"},
		{"unknown region", Config{Regions: []string{"mars-north-1"}}, `region "mars-north-1" is not in the topology`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.cfg.withDefaults()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
