package labapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestGatewayRetries reads the retry counter from a real Prometheus text
// exposition (as the compose gateway serves it), summed over its labels,
// and refuses a page that is not metrics text.
func TestGatewayRetries(t *testing.T) {
	page := "# HELP edgelab_gateway_retries_total Requests retried on another edge.\n" +
		"# TYPE edgelab_gateway_retries_total counter\n" +
		"edgelab_gateway_retries_total{region=\"us-east-1\"} 3\n" +
		"edgelab_gateway_retries_total{region=\"eu-west-1\"} 4\n" +
		"# TYPE other_total counter\nother_total 99\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/garbage" {
			_, _ = io.WriteString(w, "{not metrics\n")
			return
		}
		_, _ = io.WriteString(w, page)
	}))
	defer srv.Close()
	l := &Lab{http: srv.Client()}
	n, err := l.gatewayRetries(context.Background(), srv.URL+"/metrics")
	if err != nil || n != 7 {
		t.Fatalf("gatewayRetries = %d, %v; want 7", n, err)
	}
	if _, err := l.gatewayRetries(context.Background(), srv.URL+"/garbage"); err == nil {
		t.Fatal("a page that is not metrics text was read as retries")
	}
}
