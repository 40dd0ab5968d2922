package controlplane_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"context"
	"time"

	"github.com/edgelab/edgelab/controlplane"
	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// TestEventLimitsRefusedAtApply: a version whose memory or timeout is over
// the event type's limit is refused when associated (not clamped), with the
// association's field path; within the limits it applies.
func TestEventLimitsRefusedAtApply(t *testing.T) {
	env := newEnv(t)
	noCheck := controlplane.CheckerFunc(func(context.Context, sandbox.Code) error { return nil })
	_, c := env.server(controlplane.Config{Checker: noCheck})
	ctx := ctxT(t)
	create := func(name string, mem int32, timeout time.Duration) {
		t.Helper()
		cfg := &edgelabv1.FunctionConfig{MemoryMb: mem, Timeout: durationpb.New(timeout)}
		src := strings.Replace(authSrc, "package auth", "package "+name, 1)
		if _, err := c.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: name, Files: files(name+".go", src), Config: cfg}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		if _, err := c.PublishFunction(ctx, &edgelabv1.PublishFunctionRequest{Name: name}); err != nil {
			t.Fatalf("publish %s: %v", name, err)
		}
	}
	create("big", 512, 0)
	create("slow", 0, 10*time.Second)
	create("fits", 128, 5*time.Second)
	apply := func(fn string) error {
		y := "id: lim\ndomains: [lim.test]\norigins: [{id: web, url: \"http://127.0.0.1:9\"}]\nbehaviors:\n  - path: default\n    origin: web\n    functions:\n      viewer-request: {function: " + fn + ", version: 1}\n"
		d, err := distribution.Parse([]byte(y))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ApplyDistribution(ctx, &edgelabv1.ApplyDistributionRequest{Distribution: d})
		return err
	}
	for fn, want := range map[string]string{
		"big":  `behaviors[0].functions.viewer-request: function "big" version 1: memory 512 MB is over the 128 MB limit for viewer events`,
		"slow": `behaviors[0].functions.viewer-request: function "slow" version 1: timeout 10s is over the 5s limit for viewer events`,
	} {
		err := apply(fn)
		if st := status.Convert(err); err == nil || st.Code() != codes.InvalidArgument || st.Message() != want {
			t.Errorf("%s: got %v, want InvalidArgument %s", fn, err, want)
		}
	}
	if err := apply("fits"); err != nil {
		t.Fatalf("a version within the viewer limits was refused: %v", err)
	}
}
