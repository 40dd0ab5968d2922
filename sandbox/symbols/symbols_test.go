package symbols_test

import (
	"context"
	"testing"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
	"github.com/edgelab/edgelab/sandbox/symbols"
)

const handler = `package auth

import (
	"context"
	"github.com/edgelab/edgelab/edge"
)

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	if _, ok := edge.Cookie(req.Header, "session"); !ok {
		edge.Log(ctx, "no session")
		return edge.Redirect(302, "/signin"), nil
	}
	req.QueryString = edge.NormalizeQuery(req.QueryString)
	return nil, nil
}
`

func TestSymbolsKey(t *testing.T) {
	m, ok := symbols.Symbols["github.com/edgelab/edgelab/edge/edge"]
	if !ok {
		t.Fatalf("Symbols has no key github.com/edgelab/edgelab/edge/edge: %v", len(symbols.Symbols))
	}
	for _, name := range []string{"Request", "Response", "VerifyJWT", "Fetch", "InfoFrom", "Log"} {
		if _, ok := m[name]; !ok {
			t.Errorf("symbol %s missing", name)
		}
	}
}

func TestInterpretHandler(t *testing.T) {
	i := interp.New(interp.Options{})
	if err := i.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	if err := i.Use(symbols.Symbols); err != nil {
		t.Fatal(err)
	}
	if _, err := i.Eval(handler); err != nil {
		t.Fatalf("eval: %v", err)
	}
	v, err := i.Eval("auth.ViewerRequest")
	if err != nil {
		t.Fatal(err)
	}
	fn, ok := v.Interface().(func(context.Context, *edge.Request) (*edge.Response, error))
	if !ok {
		t.Fatalf("ViewerRequest has type %T", v.Interface())
	}
	tests := []struct {
		name       string
		cookie     string
		wantStatus int
		wantQS     string
	}{
		{"no session redirects", "", 302, "b=1"},
		{"session continues", "session=x", 0, "a=2&b=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, rt := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest})
			req := edgetest.NewRequest("GET", "/p?B=1&a=2")
			if tt.cookie != "" {
				req.Header.Set("Cookie", tt.cookie)
			} else {
				req.QueryString = "b=1"
			}
			resp, err := fn(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantStatus == 0 {
				if resp != nil {
					t.Fatalf("resp = %+v, want nil", resp)
				}
			} else if resp == nil || resp.Status != tt.wantStatus || resp.Header.Get("Location") != "/signin" {
				t.Fatalf("resp = %+v", resp)
			}
			if req.QueryString != tt.wantQS {
				t.Errorf("QueryString = %q, want %q", req.QueryString, tt.wantQS)
			}
			if tt.cookie == "" && len(rt.Logs()) != 1 {
				t.Errorf("Logs = %v", rt.Logs())
			}
		})
	}
}
