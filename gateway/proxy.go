package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// planKey carries a *routePlan in the request context from ServeHTTP to
// retryTransport.
type planKey struct{}

// routePlan is the routing decision for one viewer request.
type routePlan struct {
	region     string
	candidates []*edgeState // nearest first
	retryable  bool         // idempotent method and replayable body
	simulate   bool         // sleep the modelled round trip
}

// retryTransport sends a request to the plan's edges in order. A failure to
// get response headers from an edge (connect error, reset, timeout) ejects the
// edge (passive health) and, for retryable requests, moves on to the next
// edge; nothing has reached the viewer at that point, so the retry is
// invisible to it.
type retryTransport struct {
	g    *Gateway
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	plan, ok := ctx.Value(planKey{}).(*routePlan)
	if !ok || len(plan.candidates) == 0 {
		return nil, errors.New("gateway: request has no route plan")
	}
	limit := 1
	if plan.retryable {
		limit = t.g.cfg.MaxAttempts
	}
	var errs []error
	attempts := 0
	for i, s := range plan.candidates {
		if attempts >= limit {
			break
		}
		// An edge ejected since the plan was made is skipped, unless it is
		// the last hope.
		if attempts > 0 && !s.isHealthy() && i < len(plan.candidates)-1 {
			continue
		}
		attempts++
		if plan.simulate {
			if err := sleepCtx(ctx, t.g.viewerRoundTrip(plan.region, s.edge.Region)); err != nil {
				return nil, err
			}
		}
		out := req.Clone(ctx)
		t.target(out, s)
		if attempts > 1 {
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, fmt.Errorf("gateway: replaying body: %w", err)
				}
				out.Body = body
			}
			t.g.metrics.retries.WithLabelValues(s.edge.ID).Inc()
		}
		resp, err := t.next.RoundTrip(out)
		if err == nil {
			resp.Header.Set(HeaderGatewayEdge, s.edge.ID)
			t.g.metrics.requests.WithLabelValues(s.edge.ID, strconv.Itoa(resp.StatusCode)).Inc()
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, err // the viewer went away; the edge is not to blame
		}
		t.g.markFailed(s, "passive", err, time.Now())
		errs = append(errs, fmt.Errorf("edge %s: %w", s.edge.ID, err))
		if !plan.retryable {
			break
		}
		t.g.log.Info("retrying on next edge", "failed", s.edge.ID, "err", err)
	}
	return nil, errors.Join(errs...)
}

// target points out at edge s, keeping path and query.
func (t *retryTransport) target(out *http.Request, s *edgeState) {
	u := *out.URL
	u.Scheme, u.Host = s.base.Scheme, s.base.Host
	if p := strings.TrimSuffix(s.base.Path, "/"); p != "" {
		u.Path = p + u.Path
		if u.RawPath != "" {
			u.RawPath = strings.TrimSuffix(s.base.EscapedPath(), "/") + u.RawPath
		}
	}
	out.URL = &u
}

// viewerRoundTrip is the modelled viewer->edge round trip: the latency
// model's when the gateway has one, else 2 x the topology's one-way latency.
func (g *Gateway) viewerRoundTrip(viewer, edge string) time.Duration {
	if g.cfg.Latency.On() {
		return g.cfg.Latency.RoundTrip(viewer, edge)
	}
	return 2 * g.latency(viewer, edge)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
