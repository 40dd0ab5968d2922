//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestComposeLabS3Origin checks the demo distribution's /assets/*: served
// through the gateway from the S3-mode origin (service origin-assets,
// bucket edgelab-assets) with S3's headers, then from the edge's cache.
func TestComposeLabS3Origin(t *testing.T) {
	if os.Getenv("EDGELAB_NO_DEMO") == "1" {
		t.Skip("EDGELAB_NO_DEMO=1: the lab has no demo distribution")
	}
	dumpLogsOnFailure(t)
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 30 * time.Second}
	// A key no earlier run asked for, so the first request is a miss.
	key := fmt.Sprintf("e2e/%d.txt", time.Now().UnixNano())
	first, body := do(t, client, "", "eu-west-1", "/assets/"+key)
	if fns := first.Header.Get("X-Edgelab-Functions"); strings.Contains(fns, "chaos-probe") {
		t.Skipf("a chaos scenario re-associated the demo distribution (%s): scripts/lab.sh demo restores it", fns)
	}
	if first.StatusCode != http.StatusOK {
		t.Fatalf("GET /assets/%s: status %d, headers %v, body %q", key, first.StatusCode, first.Header, body)
	}
	etag := first.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) != 34 {
		t.Errorf("ETag = %q, want an S3 ETag (a quoted MD5)", etag)
	}
	if got := first.Header.Get("X-Amz-Meta-Bucket"); got != "edgelab-assets" {
		t.Errorf("x-amz-meta-bucket = %q, want edgelab-assets", got)
	}
	if first.Header.Get("Last-Modified") == "" {
		t.Error("no Last-Modified")
	}
	// The origin path (/edgelab-assets, the bucket) is prefixed to the URI: the key is assets/<key>.
	if want := "object edgelab-assets/assets/" + key + " from assets"; !strings.Contains(string(body), want) {
		t.Errorf("body %q, want it to name %q", body, want)
	}
	if got := first.Header.Get("X-Cache"); got != "Miss from edgelab" {
		t.Errorf("first request X-Cache = %q, want Miss from edgelab", got)
	}
	second, _ := do(t, client, "", "eu-west-1", "/assets/"+key)
	if got := second.Header.Get("X-Cache"); got != "Hit from edgelab" || second.Header.Get("ETag") != etag {
		t.Errorf("second request: X-Cache %q, ETag %q; want Hit from edgelab with ETag %q", got, second.Header.Get("ETag"), etag)
	}
}
