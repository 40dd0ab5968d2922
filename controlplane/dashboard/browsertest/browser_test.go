package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/grpc"

	"github.com/edgelab/edgelab/internal/poll"
	"github.com/edgelab/edgelab/lab"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

func TestMain(m *testing.M) {
	sandbox.MaybeRunWorker()
	os.Exit(m.Run())
}

// browsers are the Chromium binaries looked for, in order.
var browsers = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

func findBrowser(t *testing.T) string {
	t.Helper()
	for _, b := range browsers {
		if p, err := exec.LookPath(b); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("no Chromium installed (looked for %s on PATH): dashboard browser tests not run; install the Debian package chromium", strings.Join(browsers, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func screenshotDir(t *testing.T) string {
	dir := os.Getenv("EDGELAB_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "build", "dashboard")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot dir: %v", err)
	}
	return dir
}

// browser starts headless Chromium at 1280x800; it is stopped at cleanup.
func browser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("lang", "en-GB"))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	// The first call starts the browser, which lives as long as ctx: no
	// timeout on it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`1`)); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return ctx
}

// run runs browser actions, each step bounded.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](ctx context.Context, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Fatalf("saving screenshot: %v", err)
	}
}

func startLab(t *testing.T) *lab.Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := lab.Start(ctx, lab.Config{DataDir: t.TempDir(), Regions: []string{"us-east-1", "eu-west-1", "ap-northeast-1"}, ControlPlanes: 2})
	if err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// traffic sends a bounded number of viewer requests through the gateway.
func traffic(t *testing.T, gateway string, n int) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	paths := []string{"/objects/64", "/hello", "/objects/1", "/api/whoami", "/missing"}
	for i := 0; i < n; i++ {
		req, _ := http.NewRequest("GET", gateway+paths[i%len(paths)], nil)
		req.Header.Set("X-Viewer-Region", []string{"us-east-1", "eu-west-1", "ap-northeast-1"}[i%3])
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("traffic: %v", err)
		}
		resp.Body.Close()
	}
}

// publishHello publishes a new version of the sample hello function and
// points the sample distribution at it; it returns the change's revision.
func publishHello(t *testing.T, l *lab.Lab) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := l.Client()
	got, err := c.GetFunction(ctx, &edgelabv1.GetFunctionRequest{Name: "hello", IncludeCode: true})
	if err != nil {
		t.Fatalf("get hello: %v", err)
	}
	files := got.GetFunction().GetDraft()
	files[0].Content = append(files[0].Content, []byte(fmt.Sprintf("\n// browser test %d\n", time.Now().UnixNano()))...)
	if _, err := c.UpdateFunction(ctx, &edgelabv1.UpdateFunctionRequest{Name: "hello", Files: files}); err != nil {
		t.Fatalf("update hello: %v", err)
	}
	pub, err := c.PublishFunction(ctx, &edgelabv1.PublishFunctionRequest{Name: "hello"})
	if err != nil {
		t.Fatalf("publish hello: %v", err)
	}
	versions := map[string]int64{"hello": pub.GetVersion().GetVersion()}
	fns, err := c.ListFunctions(ctx, &edgelabv1.ListFunctionsRequest{})
	if err != nil {
		t.Fatalf("list functions: %v", err)
	}
	for _, f := range fns.GetFunctions() {
		if f.GetName() != "hello" {
			versions[f.GetName()] = f.GetLatestVersion()
		}
	}
	applied, err := c.ApplyDistribution(ctx, &edgelabv1.ApplyDistributionRequest{Distribution: l.SampleDistribution(versions)})
	if err != nil {
		t.Fatalf("apply distribution: %v", err)
	}
	return applied.GetRevision()
}

func waitLive(t *testing.T, ctx context.Context) {
	t.Helper()
	poll.Until(t, 30*time.Second, "the page is live", func() error {
		s, err := eval[string](ctx, `document.getElementById('conn').dataset.state`)
		if err != nil || s != "live" {
			return fmt.Errorf("connection state %q (%v)", s, err)
		}
		return nil
	})
}

func TestDashboardInChromium(t *testing.T) {
	exe := findBrowser(t)
	l := startLab(t)
	ctx := browser(t, exe)
	dir := screenshotDir(t)
	ep := l.Endpoints()
	nodes := len(ep.Edges) + len(ep.RECs) // the dashboard shows both tiers
	dash := strings.TrimSuffix(ep.Dashboard, "/")
	traffic(t, ep.Gateway, 60)

	t.Run("network", func(t *testing.T) {
		run(t, ctx, "open network", chromedp.Navigate(dash+"/network"))
		waitLive(t, ctx)
		poll.Until(t, 30*time.Second, "every node up in the Network view", func() error {
			n, err := eval[int](ctx, `document.querySelectorAll('#network-regions .node[data-state="up"]').length`)
			if err != nil || n != nodes {
				return fmt.Errorf("%d of %d nodes up (%v)", n, nodes, err)
			}
			return nil
		})
		// The tiers: each REC is marked as one, and the tier rows count them.
		recs, err := eval[string](ctx, `document.querySelectorAll('#network-regions .node[data-tier="rec"]').length + ' ' +
			((document.querySelector('#network-tiers tr[data-tier="rec"] td')||{}).textContent||'none')`)
		if want := fmt.Sprintf("%d %d", len(ep.RECs), len(ep.RECs)); err != nil || recs != want {
			t.Errorf("REC nodes shown and counted %q, want %q (%v)", recs, want, err)
		}
		shot(t, ctx, dir, "network")
	})
	t.Run("traffic", func(t *testing.T) {
		run(t, ctx, "open traffic", chromedp.Navigate(dash+"/traffic"))
		waitLive(t, ctx)
		traffic(t, ep.Gateway, 60)
		poll.Until(t, 30*time.Second, "traffic from every node", func() error {
			n, err := eval[int](ctx, `document.querySelectorAll('#traffic-nodes tr[data-node]').length`)
			if err != nil || n != nodes {
				return fmt.Errorf("%d of %d node rows (%v)", n, nodes, err)
			}
			lines, err := eval[int](ctx, `document.querySelectorAll('#traffic-chart polyline').length`)
			if err != nil || lines == 0 {
				return fmt.Errorf("no traffic line drawn yet (%v)", err)
			}
			// Latency from the nodes' own histograms: a PoP that served
			// requests in the window shows its p50 and p99.
			lat, err := eval[string](ctx, `[...document.querySelectorAll('#traffic-nodes tr[data-tier="pop"]')].map(r =>
				r.querySelector('[data-field=p50]').textContent + '/' + r.querySelector('[data-field=p99]').textContent).find(v => /ms|s$/.test(v) && !v.includes('–')) || ''`)
			if err != nil || lat == "" {
				return fmt.Errorf("no PoP shows a request p50/p99 yet (%v)", err)
			}
			return nil
		})
		shot(t, ctx, dir, "traffic")
	})
	t.Run("functions", func(t *testing.T) {
		run(t, ctx, "open functions", chromedp.Navigate(dash+"/functions"))
		waitLive(t, ctx)
		poll.Until(t, 30*time.Second, "hello invocations counted", func() error {
			v, err := eval[string](ctx, `(document.querySelector('#functions-table tr[data-function="hello"] td:nth-child(4)')||{}).textContent||''`)
			if err != nil || v == "" || v == "0" || v == "–" {
				return fmt.Errorf("hello invocations %q (%v)", v, err)
			}
			return nil
		})
		// The version row: where it is held, and its latency.
		poll.Until(t, 30*time.Second, "hello's version row with nodes and latency", func() error {
			v, err := eval[string](ctx, `(r => r ? r.querySelector('[data-field=nodes]').dataset.count + ' | ' + r.querySelector('[data-field=memory]').textContent +
				' | ' + r.querySelector('[data-field=p50]').textContent : 'no row')(document.querySelector('#functions-versions tr.latest[data-function="hello"]'))`)
			// Memory: the workers' RSS as the nodes measure it, and the limit.
			if err != nil || !strings.HasPrefix(v, fmt.Sprintf("%d | ", nodes)) || strings.Contains(v, "| –") || strings.HasSuffix(v, "–") {
				return fmt.Errorf("hello latest version row %q, want held by %d nodes, memory used and a p50 (%v)", v, nodes, err)
			}
			return nil
		})
		shot(t, ctx, dir, "functions")
	})
	t.Run("rollout", func(t *testing.T) {
		run(t, ctx, "open rollout", chromedp.Navigate(dash+"/rollout"))
		waitLive(t, ctx)
		rev := publishHello(t, l)
		sel := fmt.Sprintf(`document.querySelector('figure[data-rollout="%s@%d"]')`, lab.SampleDistributionID, rev)
		poll.Until(t, 60*time.Second, "the new rollout acked by every node", func() error {
			v, err := eval[string](ctx, `(f => f ? f.dataset.acked + '/' + f.dataset.nodes + ' ' + f.dataset.state : 'no chart')(`+sel+`)`)
			want := fmt.Sprintf("%d/%d Deployed", nodes, nodes)
			if err != nil || v != want {
				return fmt.Errorf("chart says %q, want %q (%v)", v, want, err)
			}
			return nil
		})
		marks, err := eval[int](ctx, sel+`.querySelectorAll('.mark-acked').length`)
		if err != nil || marks != nodes {
			t.Fatalf("acked marks drawn: %d, want %d (%v)", marks, nodes, err)
		}
		// One status row per region and tier, each Deployed, the RECs' too.
		rows, err := eval[string](ctx, `(f => [...f.querySelectorAll('.tier-rows tr[data-tier]')].map(r => r.dataset.tier + ':' + r.dataset.state).sort().join(' '))(`+sel+`)`)
		if err != nil || !strings.Contains(rows, "rec:Deployed") || !strings.Contains(rows, "pop:Deployed") || strings.Contains(rows, "InProgress") {
			t.Fatalf("tier rows %q, want every PoP and REC row Deployed (%v)", rows, err)
		}
		// The page follows the newest rollout and keeps the one it showed
		// before, so the two are compared on one time scale; unticking one
		// leaves the other.
		charts := func() (int, error) {
			return eval[int](ctx, `document.querySelectorAll('#rollout-charts figure').length`)
		}
		if n, err := charts(); err != nil || n != 2 {
			t.Fatalf("%d rollout charts, want the old and the new one (%v)", n, err)
		}
		shot(t, ctx, dir, "rollout")
		run(t, ctx, "untick the previous rollout", chromedp.Click(chromedp.CSS(`#rollout-list li:nth-child(2) input`)))
		poll.Until(t, 10*time.Second, "one rollout left", func() error {
			if n, err := charts(); err != nil || n != 1 {
				return fmt.Errorf("%d charts (%v)", n, err)
			}
			return nil
		})
	})
	t.Run("chaos kill an edge", func(t *testing.T) {
		victim := ep.Edges[0]
		run(t, ctx, "open chaos", chromedp.Navigate(dash+"/chaos"))
		waitLive(t, ctx)
		poll.Until(t, 10*time.Second, "the target offered", func() error {
			ok, err := eval[bool](ctx, fmt.Sprintf(`[...document.querySelectorAll('#inject-target option')].some(o => o.value === 'node:%s')`, victim.ID))
			if err != nil || !ok {
				return fmt.Errorf("target not offered (%v)", err)
			}
			return nil
		})
		// A chaos action without a token is refused (401); the page then
		// asks for one, which a user pastes: here it is stored directly.
		code, err := eval[float64](ctx, `(() => { const x = new XMLHttpRequest(); x.open('POST', '/api/chaos/inject', false);
			x.setRequestHeader('Content-Type', 'application/json'); x.send('{}'); return x.status; })()`)
		if err != nil || code != 401 {
			t.Fatalf("inject without a token: HTTP %v (%v), want 401", code, err)
		}
		if _, err := eval[bool](ctx, fmt.Sprintf(`(sessionStorage.setItem('edgelab-token', %q), true)`, ep.AdminToken)); err != nil {
			t.Fatalf("storing the token: %v", err)
		}
		// The selects are filled by the page; pick the options as a user
		// would, then press Inject.
		if _, err := eval[bool](ctx, fmt.Sprintf(`(() => {
			const set = (id, v) => { const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event('change')); return e.value === v; };
			return set('inject-kind', 'kill') && set('inject-target', 'node:%s') && set('inject-duration', '');
		})()`, victim.ID)); err != nil {
			t.Fatalf("filling the inject form: %v", err)
		}
		run(t, ctx, "press Inject", chromedp.Click(chromedp.CSS(`#inject-submit`)))
		poll.Until(t, 30*time.Second, "the edge stopped in the lab", func() error {
			resp, err := (&http.Client{Timeout: time.Second}).Get(victim.URL + "/_edgelab/health")
			if err == nil {
				resp.Body.Close()
				return fmt.Errorf("%s still answers", victim.ID)
			}
			return nil
		})
		poll.Until(t, 30*time.Second, "the fault listed as active", func() error {
			n, err := eval[int](ctx, `document.querySelectorAll('#chaos-active tr[data-fault]').length`)
			if err != nil || n != 1 {
				return fmt.Errorf("%d active faults shown (%v)", n, err)
			}
			return nil
		})
		shot(t, ctx, dir, "chaos")
		run(t, ctx, "open network", chromedp.Navigate(dash+"/network"))
		waitLive(t, ctx)
		poll.Until(t, 60*time.Second, "the killed node marked down", func() error {
			s, err := eval[string](ctx, fmt.Sprintf(`(document.querySelector('.node[data-node="%s"]')||{dataset:{}}).dataset.state||''`, victim.ID))
			if err != nil || s != "down" {
				return fmt.Errorf("%s shown %q (%v)", victim.ID, s, err)
			}
			return nil
		})
		shot(t, ctx, dir, "network-node-down")
		run(t, ctx, "open chaos", chromedp.Navigate(dash+"/chaos"))
		waitLive(t, ctx)
		run(t, ctx, "heal all", chromedp.Click(chromedp.CSS(`#heal-all`)))
		poll.Until(t, 60*time.Second, "the edge back", func() error {
			resp, err := (&http.Client{Timeout: time.Second}).Get(victim.URL + "/_edgelab/health")
			if err != nil {
				return err
			}
			resp.Body.Close()
			return nil
		})
	})
	t.Run("accessibility", func(t *testing.T) {
		testAccessibility(t, ctx, dash)
	})
	t.Run("replica dies", func(t *testing.T) {
		testReplicaFailover(t, ctx, l, dir)
	})
}

// testReplicaFailover opens cp1's dashboard, kills cp1 through cp2 and
// expects the page to say so and move to cp2's dashboard.
func testReplicaFailover(t *testing.T, ctx context.Context, l *lab.Lab, dir string) {
	ep := l.Endpoints()
	dash := strings.TrimSuffix(ep.Dashboard, "/")
	run(t, ctx, "open network on cp1", chromedp.Navigate(dash+"/network"))
	waitLive(t, ctx)
	conn, err := grpc.NewClient(ep.ControlPlanes[1], l.AdminDialOptions()...)
	if err != nil {
		t.Fatalf("dialing cp2: %v", err)
	}
	defer conn.Close()
	chaos := edgelabv1.NewChaosServiceClient(conn)
	ictx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := chaos.Inject(ictx, &edgelabv1.InjectRequest{Fault: &edgelabv1.Fault{Id: "kill-cp1", Kind: "kill", Target: "controlplane:cp1"}}); err != nil {
		t.Fatalf("killing cp1: %v", err)
	}
	t.Cleanup(func() {
		hctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		chaos.Heal(hctx, &edgelabv1.HealRequest{All: true})
	})
	host := strings.TrimPrefix(dash, "http://")
	poll.Until(t, 60*time.Second, "the page moved off cp1", func() error {
		loc, err := eval[string](ctx, `location.host + ' ' + document.getElementById('banner').textContent + ' ' + document.getElementById('conn').dataset.state`)
		if err != nil || strings.HasPrefix(loc, host+" ") || !strings.HasSuffix(loc, " live") {
			return fmt.Errorf("page at %q (%v)", loc, err)
		}
		return nil
	})
	b, err := eval[string](ctx, `document.getElementById('banner').textContent`)
	if err != nil || !strings.Contains(b, "cp1") {
		t.Fatalf("banner %q does not say cp1 went down (%v)", b, err)
	}
	r, err := eval[string](ctx, `document.getElementById('conn').textContent`)
	if err != nil || !strings.Contains(r, "cp2") {
		t.Fatalf("connection badge %q, want live from cp2 (%v)", r, err)
	}
	shot(t, ctx, dir, "failover")
}

// testAccessibility checks, in each view at 1280x800: no sideways scroll
// of the page; every control is reached with the Tab key; times are
// formatted in the viewer's locale.
func testAccessibility(t *testing.T, ctx context.Context, dash string) {
	for _, view := range []string{"network", "rollout", "traffic", "functions", "chaos"} {
		run(t, ctx, "open "+view, chromedp.Navigate(dash+"/"+view))
		waitLive(t, ctx)
		w, err := eval[string](ctx, `document.documentElement.scrollWidth + ' ' + window.innerWidth`)
		var scroll, inner int
		if _, serr := fmt.Sscan(w, &scroll, &inner); err != nil || serr != nil || inner != 1280 || scroll > inner {
			t.Errorf("%s: page width %q, want no wider than the 1280 px window (%v)", view, w, err)
		}
	}
	// The chaos view has the most controls: tab through all of them.
	run(t, ctx, "open chaos", chromedp.Navigate(dash+"/chaos"))
	waitLive(t, ctx)
	want := []string{"inject-kind", "inject-target", "inject-duration", "inject-submit", "heal-all"}
	reached := map[string]bool{}
	for range 40 {
		run(t, ctx, "press Tab", chromedp.KeyEvent("\t"))
		id, err := eval[string](ctx, `document.activeElement ? (document.activeElement.id || document.activeElement.getAttribute('href') || document.activeElement.tagName) : ''`)
		if err != nil {
			t.Fatalf("focused element: %v", err)
		}
		reached[id] = true
	}
	for _, id := range append(want, "/network", "/rollout", "/traffic", "/functions", "/chaos") {
		if !reached[id] {
			t.Errorf("%s not reached with the Tab key (reached %v)", id, reached)
		}
	}
	// The views are redrawn every round: a disclosure opened with the
	// keyboard stays open and keeps the focus across redraws.
	run(t, ctx, "open functions", chromedp.Navigate(dash+"/functions"))
	waitLive(t, ctx)
	sum := `document.querySelector('#functions-versions tr.latest[data-function="hello"] summary')`
	if ok, err := eval[bool](ctx, `(s => s ? (s.focus(), document.activeElement === s) : false)(`+sum+`)`); err != nil || !ok {
		t.Fatalf("focusing hello's node list: %v %v", ok, err)
	}
	run(t, ctx, "press Enter", chromedp.KeyEvent("\r"))
	before, err := eval[float64](ctx, `app.lastEvent`)
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 20*time.Second, "two redraws with the list open and focused", func() error {
		v, err := eval[string](ctx, `(app.lastEvent > `+fmt.Sprint(before)+` + 1500) + ' ' + (document.activeElement.dataset.key || document.activeElement.tagName) + ' ' + `+sum+`.parentElement.open`)
		if err != nil || !strings.HasPrefix(v, "true ver:hello:") || !strings.HasSuffix(v, "/summary true") {
			return fmt.Errorf("after a redraw: %q (%v)", v, err)
		}
		return nil
	})
	// Times: the rollout list shows the change time as the viewer's locale
	// formats it.
	run(t, ctx, "open rollout", chromedp.Navigate(dash+"/rollout"))
	waitLive(t, ctx)
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ok, err := chromedp.Run(actx, chromedp.Evaluate[string](`(async () => {
		const r = await (await fetch('/api/rollouts')).json();
		const want = new Date(r[0].changed).toLocaleTimeString(navigator.language);
		const got = document.querySelector('#rollout-list li .hint').textContent;
		return got.includes(want) ? 'ok' : got + ' lacks ' + want;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || ok != "ok" {
		t.Errorf("rollout time not in the viewer's locale: %q (%v)", ok, err)
	}
}
