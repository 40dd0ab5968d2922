//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"
)

// dashboardURLs are the dashboards of cp1 and cp2 as the host reaches them.
func dashboardURLs(t *testing.T) []string {
	t.Helper()
	ports := labEnv(t)
	port := func(k, def string) string {
		if p := ports[k]; p != "" {
			return p
		}
		return def // a settings file from before the dashboards were published
	}
	return []string{"http://127.0.0.1:" + port("EDGELAB_CP1_DASH_PORT", "7080") + "/", "http://127.0.0.1:" + port("EDGELAB_CP2_DASH_PORT", "7081") + "/"}
}

// getJSON decodes GET url into v.
func getJSON(client *http.Client, url string, v any) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(v)
}

// TestComposeLabDashboard: every control-plane replica serves the
// dashboard on its published port, lists both replicas for failover, and
// its Traffic view carries the edges' own request counts and latency.
func TestComposeLabDashboard(t *testing.T) {
	dumpLogsOnFailure(t)
	client := &http.Client{Timeout: 5 * time.Second}
	for i, dash := range dashboardURLs(t) {
		var replicas []struct{ ID, URL string }
		if err := getJSON(client, dash+"api/replicas", &replicas); err != nil || len(replicas) != 2 {
			t.Fatalf("replica %d: replicas %+v (%v), want cp1 and cp2", i+1, replicas, err)
		}
		resp, err := client.Get(dash + "traffic")
		if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("replica %d: GET /traffic: %v %v", i+1, resp, err)
		}
		resp.Body.Close()
	}
	for i := range 50 { // bounded: a few requests per edge
		do(t, client, "", []string{"us-east-1", "eu-west-1", "ap-northeast-1", "sa-east-1", "ap-southeast-2"}[i%5], "/objects/64")
	}
	dash := dashboardURLs(t)[1]
	poll.Until(t, 60*time.Second, "traffic from the edges in cp2's dashboard", func() error {
		var tr struct {
			Source string
			Nodes  []struct {
				Name     string
				Requests float64
				Points   []struct{ P50Ms *float64 }
			}
		}
		if err := getJSON(client, dash+"api/traffic", &tr); err != nil {
			return err
		}
		if tr.Source != "nodes" || len(tr.Nodes) < 5 {
			return fmt.Errorf("source %q, %d nodes", tr.Source, len(tr.Nodes))
		}
		for _, n := range tr.Nodes {
			if n.Requests == 0 {
				return fmt.Errorf("node %s counted no request", n.Name)
			}
		}
		for _, n := range tr.Nodes {
			for _, p := range n.Points {
				if p.P50Ms != nil {
					return nil
				}
			}
		}
		return fmt.Errorf("no node has a request latency yet")
	})
}
