package lab

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/edgelab/edgelab/internal/poll"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// The lab's origins guard their admin API with the lab's admin token, and
// the control planes send it when they forward an origin fault: a fault
// injected through the chaos API reaches the origin.
func TestLabOriginAdminTakesTheAdminToken(t *testing.T) {
	l := startLab(t, "us-east-1")
	ep := l.Endpoints()
	if ep.AdminToken == "" {
		t.Fatal("the lab has no admin token")
	}
	web := ep.Origins[0].URL
	if code, _ := adminGet(t, web+"/_admin/faults", ""); code != http.StatusUnauthorized {
		t.Fatalf("origin admin API without a token: HTTP %d, want 401", code)
	}
	conn, err := grpc.NewClient(ep.ControlPlanes[0], l.AdminDialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = edgelabv1.NewChaosServiceClient(conn).Inject(context.Background(), &edgelabv1.InjectRequest{Fault: &edgelabv1.Fault{
		Id: "slow-web", Kind: "origin-latency", Target: "origin:" + ep.Origins[0].ID,
		Latency: durationpb.New(5 * time.Millisecond), Duration: durationpb.New(time.Minute)}})
	if err != nil {
		t.Fatal(err)
	}
	poll.True(t, 30*time.Second, "the forwarded fault on the origin", func() bool {
		code, body := adminGet(t, web+"/_admin/faults", ep.AdminToken)
		return code == http.StatusOK && strings.Contains(body, "5ms")
	})
}

// adminGet GETs url with token as bearer ("" sends none).
func adminGet(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
