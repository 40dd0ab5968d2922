package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/controlplane/replication/fault"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
)

// originAdminPath is the sample origin's fault admin endpoint (package origin).
const originAdminPath = "/_admin/faults"

// originFault is the JSON body of origin's admin API (origin.Fault); kept
// here as a wire type so the control plane does not import the origin role.
type originFault struct {
	Path      string  `json:"path"`
	Latency   string  `json:"latency,omitempty"`
	ErrorRate float64 `json:"errorRate,omitempty"`
	Status    int     `json:"status,omitempty"`
	Outage    bool    `json:"outage,omitempty"`
}

// originForwarder makes the origins' runtime faults (path "" = every path)
// match the origin-* faults in the fault set: it combines every active fault
// of one origin into one admin-API fault and PUTs it, or DELETEs it when none
// is left. Every replica does this; the calls are idempotent. It remembers
// what it last sent per URL so that it only calls on a change.
type originForwarder struct {
	kv     clientv3.KV
	keys   store.Keys
	set    *FaultSet
	static map[string]string
	token  string // bearer token of the origins' admin API ("": none)
	client *http.Client
	log    *slog.Logger

	mu      sync.Mutex        // serialises reconcile
	applied map[string]string // admin base URL -> body last sent ("" = healed)
	ids     map[string]bool   // origin ids ever faulted by this replica
}

func newOriginForwarder(kv clientv3.KV, keys store.Keys, set *FaultSet, static map[string]string, token string, client *http.Client, log *slog.Logger) *originForwarder {
	return &originForwarder{kv: kv, keys: keys, set: set, static: static, token: token, client: client, log: log,
		applied: map[string]string{}, ids: map[string]bool{}}
}

// run reconciles at every change of the fault set, retrying failures every second.
func (o *originForwarder) run(ctx context.Context) error {
	if err := o.set.WaitReady(ctx); err != nil {
		return nil
	}
	for {
		changed := o.set.Changed()
		var retry <-chan time.Time
		var t *time.Timer
		if err := o.reconcile(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("forwarding origin faults", "err", err)
			t = time.NewTimer(time.Second)
			retry = t.C
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-retry:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// adminURLs maps origin id to the admin base URLs ("http://host:port"): the
// configured ones, else every URL a distribution gives that origin id.
func (o *originForwarder) adminURLs(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	for id, u := range o.static {
		if base, err := adminBase(u); err == nil {
			out[id] = []string{base}
		}
	}
	resp, err := o.kv.Get(ctx, o.keys.Distributions(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("reading distributions for origin URLs: %w", err)
	}
	seen := map[string]bool{}
	for _, kv := range resp.Kvs {
		d := &edgelabv1.Distribution{}
		if err := proto.Unmarshal(kv.Value, d); err != nil {
			continue
		}
		for _, org := range d.GetOrigins() {
			if _, ok := o.static[org.GetId()]; ok {
				continue
			}
			base, err := adminBase(org.GetUrl())
			if err != nil || seen[org.GetId()+" "+base] {
				continue
			}
			seen[org.GetId()+" "+base] = true
			out[org.GetId()] = append(out[org.GetId()], base)
		}
	}
	return out, nil
}

func adminBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("origin URL %q: want http(s)://host[:port]", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// known reports whether the forwarder can reach origin id.
func (o *originForwarder) known(ctx context.Context, id string) (bool, error) {
	urls, err := o.adminURLs(ctx)
	if err != nil {
		return false, err
	}
	return len(urls[id]) > 0, nil
}

// combine folds one origin's active faults into the admin-API fault; nil when none.
func combine(faults []*edgelabv1.Fault) *originFault {
	if len(faults) == 0 {
		return nil
	}
	of := &originFault{}
	var lat time.Duration
	for _, f := range faults {
		switch f.GetKind() {
		case KindOriginLatency:
			lat = max(lat, f.GetLatency().AsDuration())
		case KindOriginErrors:
			if r := fault.Rate(f); r > of.ErrorRate {
				of.ErrorRate, of.Status = r, int(f.GetStatus())
			}
		case KindOriginOutage:
			of.Outage = true
		}
	}
	if lat > 0 {
		of.Latency = lat.String()
	}
	if of.Status == 0 {
		of.Status = http.StatusServiceUnavailable
	}
	return of
}

// reconcile makes every origin's admin fault match the fault set.
func (o *originForwarder) reconcile(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	byOrigin := map[string][]*edgelabv1.Fault{}
	for _, f := range o.set.All() {
		if name, ok := strings.CutPrefix(f.GetTarget(), TargetOrigin+":"); ok {
			byOrigin[name] = append(byOrigin[name], f)
			o.ids[name] = true
		}
	}
	if len(o.ids) == 0 {
		return nil
	}
	urls, err := o.adminURLs(ctx)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(o.ids))
	for id := range o.ids {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var errs []error
	for _, id := range ids {
		body := ""
		if of := combine(byOrigin[id]); of != nil {
			b, _ := json.Marshal(of)
			body = string(b)
		}
		for _, base := range urls[id] {
			if last, ok := o.applied[base]; ok && last == body {
				continue
			}
			if err := o.send(ctx, base, body); err != nil {
				errs = append(errs, fmt.Errorf("origin %s at %s: %w", id, base, err))
				continue
			}
			o.applied[base] = body
			o.log.Info("origin fault forwarded", "origin", id, "url", base, "fault", body)
		}
	}
	return errors.Join(errs...)
}

// send PUTs body, or DELETEs the path "" fault when body is "".
func (o *originForwarder) send(ctx context.Context, base, body string) error {
	method, target := http.MethodPut, base+originAdminPath
	var rd io.Reader = strings.NewReader(body)
	if body == "" {
		method, target, rd = http.MethodDelete, base+originAdminPath+"?path=", nil
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if o.token != "" {
		req.Header.Set("Authorization", "Bearer "+o.token)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, target, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
