package controlplane_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"

	"google.golang.org/grpc"

	"github.com/edgelab/edgelab/chaos/chaosctl"
	"github.com/edgelab/edgelab/chaos/labapi"
	"github.com/edgelab/edgelab/lab"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/topology"
)

// fetcherSrc calls edge.Fetch on the lab's web origin and turns a failed
// fetch into a 502 generated response.
const fetcherSrc = `package fetcher

import (
	"context"
	"strconv"

	"github.com/edgelab/edgelab/edge"
)

// ViewerRequest answers with what the fetch saw.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	r, err := edge.Fetch(ctx, "GET", %q, nil, nil)
	if err != nil {
		return &edge.Response{Status: 502, Body: []byte("fetch failed: " + err.Error())}, nil
	}
	return &edge.Response{Status: 200, Body: []byte("fetched " + strconv.Itoa(r.Status))}, nil
}
`

// chaosCLI runs `edgectl chaos ARGS...` against the lab's first control plane.
func chaosCLI(t *testing.T, ep lab.Endpoints, args ...string) string {
	t.Helper()
	dial := func() (*grpc.ClientConn, error) {
		opts, err := labapi.Endpoints{AdminToken: ep.AdminToken, CAFile: filepath.Join(filepath.Dir(ep.File), ep.CAFile)}.DialOptions()
		if err != nil {
			return nil, err
		}
		return grpc.NewClient(ep.ControlPlanes[0], opts...)
	}
	var out bytes.Buffer
	cmd := chaosctl.NewCommand(dial, &out)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("edgectl chaos %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

type answer struct {
	status int
	node   string
	rec    string // X-Edgelab-Rec: the REC that answered the PoP's miss
	body   string
}

func httpGet(url string, hdr map[string]string) (answer, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return answer{}, err
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, node: resp.Header.Get("X-Edgelab-Node"), rec: resp.Header.Get("X-Edgelab-Rec"), body: string(b)}, nil
}

// TestNodeSideFaultsInLab drives health-fail, fetch-errors and tier-partition through the
// ChaosService (via edgectl chaos) in an all-in-one lab and watches the
// edge, the gateway and a function react, then heal.
func TestNodeSideFaultsInLab(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole lab")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := lab.Start(ctx, lab.Config{
		DataDir: t.TempDir(), Topology: topology.Default(), Profile: "instant",
		Regions: []string{"eu-west-1", "us-east-1"}, BasePort: 0, Logger: quiet(),
	})
	if err != nil {
		t.Fatalf("lab.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Logf("lab Close: %v", err)
		}
	})
	ep := l.Endpoints()
	const victim = "edge-eu-west-1-1"
	var victimURL string
	for _, e := range ep.Edges {
		if e.ID == victim {
			victimURL = e.URL
		}
	}
	if victimURL == "" {
		t.Fatalf("no %s in %+v", victim, ep.Edges)
	}
	const bound = 15 * time.Second
	viaGateway := func(path string) (answer, error) {
		return httpGet(ep.Gateway+path, map[string]string{"X-Viewer-Region": "eu-west-1"})
	}
	health := func() (bool, string, int) {
		a, err := httpGet(victimURL+"/_edgelab/health", nil)
		if err != nil {
			return false, err.Error(), 0
		}
		return true, fmt.Sprintf("%d %s", a.status, a.body), a.status
	}
	routedTo := func(want string, yes bool) func() (bool, string) {
		return func() (bool, string) {
			a, err := viaGateway("/objects/16?probe=" + fmt.Sprint(time.Now().UnixNano()))
			if err != nil {
				return false, err.Error()
			}
			return a.status == 200 && (a.node == want) == yes, fmt.Sprintf("%d from %s", a.status, a.node)
		}
	}
	poll.Report(t, bound, "eu-west-1 viewers served by "+victim, routedTo(victim, true))
	checkHealthFail(t, ep, victim, health, routedTo)
	checkFetchErrors(ctx, t, l, ep, viaGateway)
	checkTierPartition(t, ep, viaGateway)
}

// checkTierPartition: tier-partition on eu-west-1's REC (eu-central-1)
// sends the PoP's misses to the next REC (us-east-1, the lab's other one);
// heal brings them back.
func checkTierPartition(t *testing.T, ep lab.Endpoints, viaGateway func(string) (answer, error)) {
	const bound = 15 * time.Second
	answeredBy := func(rec string) func() (bool, string) {
		return func() (bool, string) {
			a, err := viaGateway("/echo/tier?probe=" + fmt.Sprint(time.Now().UnixNano()))
			if err != nil {
				return false, err.Error()
			}
			return a.status == 200 && a.rec == rec, fmt.Sprintf("%d, X-Edgelab-Rec %q", a.status, a.rec)
		}
	}
	poll.Report(t, bound, "eu-west-1 misses answered by REC eu-central-1", answeredBy("eu-central-1"))
	chaosCLI(t, ep, "inject", "tier-partition", "node:rec-eu-central-1", "--id", "tp")
	poll.Report(t, bound, "eu-west-1 misses answered by the next REC, us-east-1", answeredBy("us-east-1"))
	chaosCLI(t, ep, "heal", "tp")
	poll.Report(t, bound, "eu-west-1 misses answered by REC eu-central-1 again", answeredBy("eu-central-1"))
}

// checkHealthFail: health-fail makes the victim's health check answer 503
// and the gateway eject it; healing brings it back.
func checkHealthFail(t *testing.T, ep lab.Endpoints, victim string, health func() (bool, string, int), routedTo func(string, bool) func() (bool, string)) {
	const bound = 15 * time.Second
	victimURL := ""
	for _, e := range ep.Edges {
		if e.ID == victim {
			victimURL = e.URL
		}
	}

	// health-fail: the edge's health check answers 503, the gateway ejects it.
	out := chaosCLI(t, ep, "inject", "health-fail", "node:"+victim, "--id", "hf")
	if !strings.Contains(out, "hf") || !strings.Contains(out, "health-fail") {
		t.Fatalf("inject output %q does not show the fault", out)
	}
	poll.Report(t, bound, victim+" health 503", func() (bool, string) {
		_, state, st := health()
		return st == http.StatusServiceUnavailable && strings.Contains(state, "health-fail"), state
	})
	poll.Report(t, bound, "the gateway routing eu-west-1 viewers elsewhere", routedTo(victim, false))
	for i := range 5 {
		if ok, state := routedTo(victim, false)(); !ok {
			t.Fatalf("request %d after ejection: %s, want another edge", i, state)
		}
	}
	// Reached directly, the node still serves viewers.
	if a, err := httpGet(victimURL+"/objects/16?direct=1", map[string]string{"Host": "demo.edgelab.test"}); err != nil || a.status != 200 || a.node != victim {
		t.Fatalf("direct request to the failing edge: %+v %v, want 200 from %s", a, err, victim)
	}
	out = chaosCLI(t, ep, "heal", "hf")
	if !strings.Contains(out, "healed hf") {
		t.Fatalf("heal output %q", out)
	}
	poll.Report(t, bound, victim+" health 200", func() (bool, string) {
		_, state, st := health()
		return st == http.StatusOK, state
	})
	poll.Report(t, bound, "the gateway routing eu-west-1 viewers back to "+victim, routedTo(victim, true))
}

// checkFetchErrors: fetch-errors makes a function's edge.Fetch calls fail;
// heal restores them.
func checkFetchErrors(ctx context.Context, t *testing.T, l *lab.Lab, ep lab.Endpoints, viaGateway func(string) (answer, error)) {
	const bound = 15 * time.Second
	c := l.Client()
	src := fmt.Sprintf(fetcherSrc, ep.Origins[0].URL+"/objects/8")
	if _, err := c.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: "fetcher",
		Files: []*edgelabv1.SourceFile{{Name: "fetcher.go", Content: []byte(src)}}}); err != nil {
		t.Fatal(err)
	}
	pub, err := c.PublishFunction(ctx, &edgelabv1.PublishFunctionRequest{Name: "fetcher"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetDistribution(ctx, &edgelabv1.GetDistributionRequest{Id: lab.SampleDistributionID})
	if err != nil {
		t.Fatal(err)
	}
	d := got.GetDistribution()
	fetchBehavior := &edgelabv1.Behavior{Path: "/fetch", Origin: "web", Functions: []*edgelabv1.Association{
		{EventType: edgelabv1.EventType_EVENT_TYPE_VIEWER_REQUEST, Function: "fetcher", Version: pub.GetVersion().GetVersion()}}}
	d.Behaviors = append([]*edgelabv1.Behavior{fetchBehavior}, d.Behaviors...)
	if _, err := c.ApplyDistribution(ctx, &edgelabv1.ApplyDistributionRequest{Distribution: d}); err != nil {
		t.Fatal(err)
	}
	if err := l.WaitDeployed(ctx, lab.SampleDistributionID, time.Minute); err != nil {
		t.Fatal(err)
	}
	fetch := func(want int, body string) func() (bool, string) {
		return func() (bool, string) {
			a, err := viaGateway("/fetch")
			if err != nil {
				return false, err.Error()
			}
			return a.status == want && strings.Contains(a.body, body), fmt.Sprintf("%d %q from %s", a.status, a.body, a.node)
		}
	}
	poll.Report(t, bound, "the fetcher fetching", fetch(200, "fetched 200"))
	chaosCLI(t, ep, "inject", "fetch-errors", "function:fetcher", "--id", "fe")
	poll.Report(t, bound, "the fetcher seeing the injected error", fetch(502, "chaos fault fe: fetch-errors on function:fetcher"))
	chaosCLI(t, ep, "heal", "--all")
	poll.Report(t, bound, "the fetcher fetching again", fetch(200, "fetched 200"))
}
