package labapi

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func startHealth(t *testing.T) (addr string, stop func()) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	healthpb.RegisterHealthServer(s, health.NewServer())
	go s.Serve(lis)
	return lis.Addr().String(), s.Stop
}

func TestFailoverConnMovesToALiveReplica(t *testing.T) {
	a, stopA := startHealth(t)
	b, stopB := startHealth(t)
	defer stopB()
	fc, err := DialFailover([]string{a, b}, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	hc := healthpb.NewHealthClient(fc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("both up: %v", err)
	}
	stopA()
	for i := 0; i < 3; i++ {
		if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatalf("call %d with replica a down: %v", i, err)
		}
	}
	stopB()
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err == nil {
		t.Fatal("all replicas down: want an error")
	}
	if _, err := DialFailover(nil); err == nil {
		t.Fatal("no addresses: want an error")
	}
}
