package lab

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
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

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunFaultsStopsAndRestartsEdges(t *testing.T) {
	l := startLab(t, "us-east-1")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.RunFaults(ctx) }()
	var stopOnce sync.Once
	stop := func() { stopOnce.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)

	edge := l.Endpoints().Edges[0]
	if !healthy(edge.URL) {
		t.Fatalf("edge %s not healthy at start", edge.ID)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: l.etcdEPs, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	keys := store.NewKeys("")
	data, _ := proto.Marshal(&edgelabv1.Fault{Id: "k1", Kind: "kill", Target: "node:" + edge.ID})
	if _, err := cli.Put(ctx, keys.Fault("k1"), string(data)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the killed edge to go down", func() bool { return !healthy(edge.URL) })
	if _, err := cli.Delete(ctx, keys.Fault("k1")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the edge to come back on its address", func() bool { return healthy(edge.URL) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunFaults: %v", err)
	}
	stopOnce.Do(func() {})
}
