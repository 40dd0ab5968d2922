package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/egress"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// A handler's edge.Fetch leaves the worker as a WorkerFetch frame and is
// performed by the host, which checks it against the egress policy it
// sent with the invocation (never one the worker names), so a worker
// needs no network of its own (see netns.go):
//
//	handler ── edge.Fetch ──► worker: fault, latency ──► WorkerFetch{invocation id}
//	                                                          │
//	host: proc.lead reads it ──► policy of that call ──► HostFetch ──► WorkerFetchResult

// HostFetch performs a worker's fetch on the host under the invocation's
// egress policy (nil: the zero policy). It must honour ctx.
type HostFetch func(ctx context.Context, policy *egress.Policy, req *http.Request) (*http.Response, error)

// maxFetchRequestBody bounds the request body a handler may send (the
// frame must fit in maxFrameBytes with its headers).
const maxFetchRequestBody = 32 << 20

// errFetchNotInFlight: a worker asked for a fetch on behalf of an
// invocation the host is not waiting for.
var errFetchNotInFlight = errors.New("fetch refused: its invocation is not in flight")

// startFetch performs the fetch of frame id on its own goroutine and
// sends the result back; it does not block the reading leader.
func (p *proc) startFetch(id uint64, f *edgelabv1.WorkerFetch) {
	p.mu.Lock()
	call, ok := p.pending[f.GetInvocation()]
	closing := p.closing
	if !closing {
		p.wg.Add(1)
	}
	p.mu.Unlock()
	if closing {
		return
	}
	go func() {
		defer p.wg.Done()
		var res *edgelabv1.WorkerFetchResult
		if !ok || !call.invoke {
			res = &edgelabv1.WorkerFetchResult{Error: errFetchNotInFlight.Error()}
		} else {
			res = p.hostFetch(call.egress, call.deadline, f)
		}
		// A write error means the worker is gone; its reader sees that too.
		_ = p.out.write(&edgelabv1.WorkerFrame{Id: id, Msg: &edgelabv1.WorkerFrame_FetchResult{FetchResult: res}}, 0)
	}()
}

// hostFetch runs one fetch, bounded by the worker's timeout, the call's
// deadline and the worker's life.
func (p *proc) hostFetch(policy *egress.Policy, deadline time.Time, f *edgelabv1.WorkerFetch) *edgelabv1.WorkerFetchResult {
	if p.cfg.fetch == nil {
		return &edgelabv1.WorkerFetchResult{Error: "outbound fetches are not available here"}
	}
	timeout := min(f.GetTimeout().AsDuration(), edge.DefaultFetchTimeout)
	if timeout <= 0 {
		timeout = edge.DefaultFetchTimeout
	}
	if d := time.Now().Add(timeout); d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(p.fetchCtx, deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, f.GetMethod(), f.GetUrl(), bytes.NewReader(f.GetBody()))
	if err != nil {
		return fetchError(err)
	}
	req.Header = headerFromWire(f.GetHeader())
	if len(f.GetBody()) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	resp, err := p.cfg.fetch(ctx, policy, req)
	if err != nil {
		return fetchError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, edge.MaxFetchBodyBytes+1))
	if err != nil {
		return fetchError(fmt.Errorf("reading body: %w", err))
	}
	return &edgelabv1.WorkerFetchResult{Status: int32(resp.StatusCode), Header: headerToWire(resp.Header), Body: body}
}

// fetchError is the result of a fetch that got no response.
func fetchError(err error) *edgelabv1.WorkerFetchResult {
	return &edgelabv1.WorkerFetchResult{Error: strings.ToValidUTF8(err.Error(), "\uFFFD"), EgressDenied: errors.Is(err, edge.ErrEgressDenied)}
}

// fetchCalls are a worker's fetches waiting for the host's answer.
type fetchCalls struct {
	mu   sync.Mutex
	next uint64
	m    map[uint64]chan *edgelabv1.WorkerFetchResult
}

// deliver hands a result to its waiting fetch (dropped when it gave up).
func (c *fetchCalls) deliver(id uint64, r *edgelabv1.WorkerFetchResult) {
	c.mu.Lock()
	ch, ok := c.m[id]
	delete(c.m, id)
	c.mu.Unlock()
	if ok {
		ch <- r
	}
}

// register makes room for the result of a new fetch.
func (c *fetchCalls) register() (uint64, chan *edgelabv1.WorkerFetchResult) {
	ch := make(chan *edgelabv1.WorkerFetchResult, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[uint64]chan *edgelabv1.WorkerFetchResult{}
	}
	c.next++
	c.m[c.next] = ch
	return c.next, ch
}

func (c *fetchCalls) forget(id uint64) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// hostFetcher is the FetchFunc of invocation (its frame id): it asks the
// host to make the request and waits for the answer or ctx's end.
func (w *workerServer) hostFetcher(invocation uint64) FetchFunc {
	return func(ctx context.Context, req *http.Request) (*http.Response, error) {
		msg, err := fetchRequest(ctx, invocation, req)
		if err != nil {
			return nil, err
		}
		id, ch := w.fetches.register()
		defer w.fetches.forget(id)
		if err := w.out.write(&edgelabv1.WorkerFrame{Id: id, Msg: &edgelabv1.WorkerFrame_Fetch{Fetch: msg}}, 0); err != nil {
			return nil, fmt.Errorf("asking the host: %w", err)
		}
		select {
		case r := <-ch:
			return fetchResponse(req, r)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// fetchRequest is req as a WorkerFetch, its body read whole.
func fetchRequest(ctx context.Context, invocation uint64, req *http.Request) (*edgelabv1.WorkerFetch, error) {
	msg := &edgelabv1.WorkerFetch{Invocation: invocation, Method: req.Method, Url: req.URL.String(), Header: headerToWire(req.Header)}
	if req.Body != nil {
		body, err := io.ReadAll(io.LimitReader(req.Body, maxFetchRequestBody+1))
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the request body: %w", err)
		}
		if len(body) > maxFetchRequestBody {
			return nil, fmt.Errorf("request body over %d bytes", maxFetchRequestBody)
		}
		msg.Body = body
	}
	if d, ok := ctx.Deadline(); ok {
		msg.Timeout = durationpb.New(time.Until(d))
	}
	return msg, nil
}

// fetchResponse is the host's answer as what http.Client.Do returns.
func fetchResponse(req *http.Request, r *edgelabv1.WorkerFetchResult) (*http.Response, error) {
	if msg := r.GetError(); msg != "" {
		return nil, hostError{msg: msg, denied: r.GetEgressDenied()}
	}
	body := r.GetBody()
	return &http.Response{StatusCode: int(r.GetStatus()), Status: http.StatusText(int(r.GetStatus())),
		Header: headerFromWire(r.GetHeader()), Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: req}, nil
}

// hostError is a fetch error as the host reported it; a refusal by the
// egress policy still matches edge.ErrEgressDenied.
type hostError struct {
	msg    string
	denied bool
}

func (e hostError) Error() string { return e.msg }

func (e hostError) Is(target error) bool { return e.denied && target == edge.ErrEgressDenied }

func headerToWire(h http.Header) []*edgelabv1.WorkerHeader {
	out := make([]*edgelabv1.WorkerHeader, 0, len(h))
	for k, vs := range h {
		wh := &edgelabv1.WorkerHeader{Name: []byte(k), Values: make([][]byte, len(vs))}
		for i, v := range vs {
			wh.Values[i] = []byte(v)
		}
		out = append(out, wh)
	}
	return out
}

func headerFromWire(hs []*edgelabv1.WorkerHeader) http.Header {
	h := make(http.Header, len(hs))
	for _, wh := range hs {
		k := string(wh.GetName())
		for _, v := range wh.GetValues() {
			h[k] = append(h[k], string(v))
		}
	}
	return h
}
