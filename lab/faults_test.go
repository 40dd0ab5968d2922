package lab

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/edgenode"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
)

// healthy reports whether url's health endpoint answers 200.
func healthy(url string) bool {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url + edgenode.HealthPath)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestFaultsStopAndRestartEdges(t *testing.T) {
	l := startLab(t, "us-east-1") // Start runs the fault follower
	ctx := context.Background()
	edge := l.Endpoints().Edges[0]
	if !healthy(edge.URL) {
		t.Fatalf("edge %s not healthy at start", edge.ID)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: l.etcdEPs, TLS: l.trust.etcdClient("lab-test"), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	keys := store.NewKeys("")
	data, _ := proto.Marshal(&edgelabv1.Fault{Id: "k1", Kind: "kill", Target: "node:" + edge.ID})
	if _, err := cli.Put(ctx, keys.Fault("k1"), string(data)); err != nil {
		t.Fatal(err)
	}
	poll.True(t, 30*time.Second, "the killed edge to go down", func() bool { return !healthy(edge.URL) })
	if _, err := cli.Delete(ctx, keys.Fault("k1")); err != nil {
		t.Fatal(err)
	}
	poll.True(t, 30*time.Second, "the edge to come back on its address", func() bool { return healthy(edge.URL) })
}

// Killing the control plane that receives the Inject call still answers
// the call: the replica stops only after in-flight replies.
func TestKillControlPlaneThroughItself(t *testing.T) {
	l := startLab(t, "us-east-1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cp1 := l.Endpoints().ControlPlanes[0]
	conn, err := grpc.NewClient(cp1, l.AdminDialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	chaos := edgelabv1.NewChaosServiceClient(conn)
	f, err := chaos.Inject(ctx, &edgelabv1.InjectRequest{Fault: &edgelabv1.Fault{Kind: "kill", Target: "controlplane:cp1"}})
	if err != nil {
		t.Fatalf("Inject on the replica it kills: %v", err)
	}
	cp := edgelabv1.NewControlPlaneServiceClient(conn)
	poll.True(t, 30*time.Second, "cp1 to go down", func() bool {
		c, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		_, err := cp.ListFunctions(c, &edgelabv1.ListFunctionsRequest{})
		return err != nil
	})
	// Heal through the other replica; cp1 comes back on its address.
	conn2, err := grpc.NewClient(l.Endpoints().ControlPlanes[1], l.AdminDialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	if _, err := edgelabv1.NewChaosServiceClient(conn2).Heal(ctx, &edgelabv1.HealRequest{Id: f.GetFault().GetId()}); err != nil {
		t.Fatalf("Heal via cp2: %v", err)
	}
	poll.True(t, 30*time.Second, "cp1 to come back", func() bool {
		c, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		_, err := cp.ListFunctions(c, &edgelabv1.ListFunctionsRequest{})
		return err == nil
	})
}
