package edge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// MaxFetchBodyBytes bounds the body Fetch reads; a longer body is cut and
// FetchResponse.Truncated set.
const MaxFetchBodyBytes = 10 << 20

// ErrEgressDenied is the error Fetch returns (wrapped: test it with
// errors.Is) when the distribution's egress policy does not allow the
// address the request would connect to, or a redirect leads to one.
var ErrEgressDenied = errors.New("fetch refused by the egress policy")

// DefaultFetchTimeout bounds a fetch whose context has no deadline.
const DefaultFetchTimeout = 30 * time.Second

// FetchResponse is the fully read answer of an outbound request.
type FetchResponse struct {
	Status int
	Header http.Header
	Body   []byte
	// Truncated is set when the body was longer than MaxFetchBodyBytes.
	Truncated bool
}

// Fetch performs an outbound HTTP request and reads the whole response.
// Inside the sandbox it goes through the host Runtime (which honours the
// invocation deadline and can be faulted by chaos); outside one (native
// tests, tools) it uses a fresh http.Client bounded by ctx's deadline or
// DefaultFetchTimeout. header and body may be nil.
func Fetch(ctx context.Context, method, url string, header http.Header, body []byte) (*FetchResponse, error) {
	if method == "" {
		method = http.MethodGet
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	rt := runtimeFrom(ctx)
	if _, ok := ctx.Deadline(); !ok && rt == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultFetchTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, fmt.Errorf("fetch %s %s: %w", method, url, err)
	}
	if header != nil {
		req.Header = header.Clone()
	}
	var resp *http.Response
	if rt != nil {
		resp, err = rt.Fetch(ctx, req)
	} else {
		resp, err = (&http.Client{}).Do(req)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch %s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxFetchBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s %s: reading body: %w", method, url, err)
	}
	out := &FetchResponse{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if len(data) > MaxFetchBodyBytes {
		out.Body, out.Truncated = data[:MaxFetchBodyBytes], true
	}
	if out.Header == nil {
		out.Header = http.Header{}
	}
	return out, nil
}
