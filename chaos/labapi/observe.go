package labapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/edgelab/edgelab/chaos"
	"github.com/edgelab/edgelab/chaos/history"
	"github.com/edgelab/edgelab/origin"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// maxAdminBody bounds what is read from a gateway or origin admin endpoint.
const maxAdminBody = 64 << 20

// retriesMetric is the gateway's retry counter (package gateway).
const retriesMetric = "edgelab_gateway_retries_total"

// Invalidate implements chaos.Lab.
func (l *Lab) Invalidate(ctx context.Context, distribution string, paths []string) (int64, error) {
	resp, err := l.cp.CreateInvalidation(ctx, &edgelabv1.CreateInvalidationRequest{DistributionId: distribution, Paths: paths})
	if err != nil {
		return 0, err
	}
	return resp.GetInvalidation().GetRevision(), nil
}

// Revisions implements chaos.Lab from GetStatus and ListNodes.
func (l *Lab) Revisions(ctx context.Context) (int64, map[string]int64, error) {
	st, err := l.cp.GetStatus(ctx, &edgelabv1.GetStatusRequest{})
	if err != nil {
		return 0, nil, fmt.Errorf("status: %w", err)
	}
	nodes, err := l.sample(ctx)
	if err != nil {
		return 0, nil, err
	}
	acked := map[string]int64{}
	for _, n := range nodes {
		if n.GetConnected() {
			acked[n.GetId()] = n.GetAppliedRevision()
		}
	}
	return st.GetRevision(), acked, nil
}

// Observations implements chaos.Lab: the gateway samples Run took and every
// origin's receipts. An origin that cannot be read is an error (a check
// that silently saw nothing would pass).
func (l *Lab) Observations(ctx context.Context) (chaos.Observations, error) {
	l.sampleGateway(ctx)
	l.mu.Lock()
	obs := chaos.Observations{Gateway: append([]history.GatewaySample(nil), l.gateway...)}
	l.mu.Unlock()
	for _, o := range l.cfg.Endpoints.Origins {
		var log origin.ReceiptLog
		// The origins' admin API takes the lab's admin token.
		if err := l.getJSON(ctx, strings.TrimSuffix(o.URL, "/")+"/_admin/receipts", l.cfg.Endpoints.AdminToken, &log); err != nil {
			return obs, fmt.Errorf("receipts of origin %s: %w", o.ID, err)
		}
		if log.Dropped > 0 {
			return obs, fmt.Errorf("origin %s dropped %d receipts: its log is full", o.ID, log.Dropped)
		}
		obs.Receipts = append(obs.Receipts, log.Receipts...)
	}
	return obs, nil
}

// sampleGateway records the gateway's edge health and retry total; a
// failed poll records nothing (the gateway may be the thing faulted).
func (l *Lab) sampleGateway(ctx context.Context) {
	base := strings.TrimSuffix(l.cfg.Endpoints.Gateway, "/")
	var edges []struct {
		ID      string `json:"id"`
		Healthy bool   `json:"healthy"`
	}
	now := time.Now()
	if err := l.getJSON(ctx, base+"/_gateway/edges", "", &edges); err != nil {
		return
	}
	s := history.GatewaySample{Time: now, Healthy: map[string]bool{}, Retries: -1}
	for _, e := range edges {
		s.Healthy[e.ID] = e.Healthy
	}
	if n, err := l.gatewayRetries(ctx, base+"/_gateway/metrics"); err == nil {
		s.Retries = n // else -1: this gateway exports no metrics
	}
	l.mu.Lock()
	l.gateway = append(l.gateway, s)
	l.mu.Unlock()
}

func (l *Lab) gatewayRetries(ctx context.Context, url string) (int64, error) {
	body, err := l.get(ctx, url, "")
	if err != nil {
		return 0, err
	}
	defer body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(io.LimitReader(body, maxAdminBody))
	if err != nil {
		return 0, fmt.Errorf("gateway metrics: %w", err)
	}
	var n float64
	if f, ok := fams[retriesMetric]; ok {
		for _, m := range f.GetMetric() {
			n += m.GetCounter().GetValue()
		}
	}
	return int64(n), nil
}

// get GETs url, with token as the bearer token when it is not "".
func (l *Lab) get(ctx context.Context, url, token string) (io.ReadCloser, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := l.http.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return cancelCloser{resp.Body, cancel}, nil
}

func (l *Lab) getJSON(ctx context.Context, url, token string, v any) error {
	body, err := l.get(ctx, url, token)
	if err != nil {
		return err
	}
	defer body.Close()
	if err := json.NewDecoder(io.LimitReader(body, maxAdminBody)).Decode(v); err != nil {
		return fmt.Errorf("decoding %s: %w", url, err)
	}
	return nil
}

type cancelCloser struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelCloser) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
