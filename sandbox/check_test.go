package sandbox

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/edge"
)

func TestCheck(t *testing.T) {
	cfg := CheckConfig{WorkerCommand: []string{os.Args[0]}, Timeout: 2 * time.Second, MemoryMB: 256}
	tests := []struct {
		name    string
		src     string
		want    []edge.EventType
		wantErr []string // substrings of the error
		is      []error  // any of
		// timeout overrides cfg.Timeout: the memory limit, not the
		// compile deadline, must stop huge-alloc, however slow the host.
		timeout time.Duration
	}{
		{name: "ok", src: hostileSrc, want: []edge.EventType{edge.ViewerRequest, edge.ViewerResponse}},
		{name: "origin", src: hdr + `
func OriginRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) { return nil, nil }
func OriginResponse(ctx context.Context, req *edge.Request, resp *edge.Response) error { return nil }
`, want: []edge.EventType{edge.OriginRequest, edge.OriginResponse}},
		{name: "init-loop", src: hostileSrc + "\nfunc init() { for {} }\n",
			wantErr: []string{"init-loop", "longer than"}, is: []error{ErrCompile}},
		{name: "huge-alloc", src: hostileSrc + "\nvar huge = []byte(strings.Repeat(\"x\", 4<<30))\n",
			wantErr: []string{"huge-alloc"}, is: []error{ErrMemoryLimit, ErrWorkerCrashed}, timeout: 10 * time.Second},
		{name: "compile-error", src: hostileSrc + "\nfunc f() int { return \"s\" }\n",
			wantErr: []string{"compile-error", "handler.go:"}, is: []error{ErrCompile}},
		{name: "syntax-error", src: hostileSrc + "\nfunc {\n",
			wantErr: []string{"syntax-error", "handler.go:"}, is: []error{ErrCompile}},
		{name: "no-entry", src: "package fn\nfunc Helper() {}\n",
			wantErr: []string{"no entry point"}, is: []error{ErrCompile}},
		{name: "bad-signature", src: hdr + "\nfunc ViewerResponse(ctx context.Context, req *edge.Request) error { return nil }\nvar _ = edge.Log\n",
			wantErr: []string{"ViewerResponse", "signature"}, is: []error{ErrCompile}},
		{name: "forbidden-import", src: hdr + "\nimport \"os\"\nfunc ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) { os.Exit(1); return nil, nil }\n",
			wantErr: []string{"forbidden-import"}, is: []error{ErrCompile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			c := cfg
			if tt.timeout > 0 {
				c.Timeout = tt.timeout
			}
			got, err := Check(context.Background(), c, code(tt.name, tt.src))
			t.Logf("took %s: %v", time.Since(start), err)
			if tt.wantErr == nil {
				if err != nil || !slices.Equal(got, tt.want) {
					t.Fatalf("got %v, %v; want %v", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, entry points %v", got)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			matched := false
			for _, e := range tt.is {
				matched = matched || errors.Is(err, e)
			}
			if !matched {
				t.Errorf("error %v is none of %v", err, tt.is)
			}
		})
	}
}

func TestCheckBadWorkerCommand(t *testing.T) {
	_, err := Check(context.Background(), CheckConfig{WorkerCommand: []string{"/nonexistent/edgelab-worker"}}, code("ok", hostileSrc))
	if err == nil || !strings.Contains(err.Error(), "starting worker") {
		t.Fatalf("err = %v", err)
	}
}

func TestDialHostHostile(t *testing.T) {
	for _, addr := range []string{"fd:abc", "fd:987654", "/nonexistent/edgelab.sock", ""} {
		if c, err := dialHost(addr); err == nil {
			c.Close()
			t.Errorf("dialHost(%q) succeeded", addr)
		}
	}
}
