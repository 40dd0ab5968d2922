package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Config configures a Hub. Zero values mean the documented defaults.
type Config struct {
	// Source is the control plane the dashboard reads. Required.
	Source Source
	// Interval is how often the Hub polls Source while someone watches
	// (an open event stream, or a JSON read in the last IdleAfter).
	// Default 1s. Unwatched, it polls every 5 Intervals, so the traffic
	// history has no holes when a page opens.
	Interval time.Duration
	// IdleAfter is how long a JSON read keeps the Hub polling at Interval.
	// Default 30s.
	IdleAfter time.Duration
	// History is how far back the traffic series go. Default 5m.
	History time.Duration
	// Window is the span a traffic point's rates are measured over.
	// Default 5s.
	Window time.Duration
	// Rollouts is how many rollouts per distribution are kept for
	// comparison. Default 6.
	Rollouts int
	// LogLines is the length of the log tail. Default 300.
	LogLines int
	// FaultKinds are the fault kinds the Chaos view offers.
	FaultKinds []string
	// Authorize checks the caller of a state-changing action (inject,
	// heal) and names them, or returns a gRPC status error
	// (Unauthenticated, PermissionDenied) to refuse it. Nil allows every
	// caller (a lab run with --insecure).
	Authorize func(r *http.Request) (Caller, error)
	// Audit records a state-changing action after it ran: who, the
	// action ("inject", "heal"), what it acted on and its error. Nil
	// records nothing.
	Audit func(ctx context.Context, c Caller, action, target string, err error)
	// Logger receives the Hub's warnings. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Caller is who made a state-changing action, as Config.Authorize names
// them for the audit log.
type Caller struct {
	// Name is the principal as the audit log writes it (token:<name>).
	Name string
	// Role is the role the caller holds.
	Role string
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.IdleAfter <= 0 {
		c.IdleAfter = 30 * time.Second
	}
	if c.History <= 0 {
		c.History = 5 * time.Minute
	}
	if c.Window <= 0 {
		c.Window = 5 * time.Second
	}
	if c.Rollouts <= 0 {
		c.Rollouts = 6
	}
	if c.LogLines <= 0 {
		c.LogLines = 300
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Hub polls the Source, keeps the history the views draw and pushes each
// new State to the page's event streams. Run owns the polling goroutine;
// the other methods are safe for concurrent use.
type Hub struct {
	cfg  Config
	poke chan struct{}
	done chan struct{}

	mu      sync.Mutex
	state   *State
	data    []byte // state as JSON
	subs    map[chan []byte]struct{}
	wanted  time.Time
	stopped bool

	// Owned by Run.
	network  networkTracker
	rollouts rolloutTracker
	traffic  trafficTracker
	chaos    chaosTracker
	logs     logTail
}

// NewHub returns a Hub; nothing is polled until Run.
func NewHub(cfg Config) (*Hub, error) {
	if cfg.Source == nil {
		return nil, fmt.Errorf("dashboard: Config.Source is required")
	}
	cfg = cfg.withDefaults()
	h := &Hub{cfg: cfg, poke: make(chan struct{}, 1), done: make(chan struct{}), subs: map[chan []byte]struct{}{}}
	h.network = networkTracker{seen: map[string]*Node{}, forget: 10 * time.Minute}
	h.rollouts = rolloutTracker{keep: cfg.Rollouts, byDist: map[string][]*Rollout{}}
	h.traffic = newTrafficTracker(cfg.History, cfg.Window)
	h.chaos = chaosTracker{known: map[string]Fault{}, keep: 100}
	h.logs = logTail{keep: cfg.LogLines}
	h.state = &State{Replica: cfg.Source.ReplicaID(), Errors: []string{"starting"}}
	h.data, _ = json.Marshal(h.state)
	return h, nil
}

// Run polls until ctx ends, then ends every event stream and returns nil.
func (h *Hub) Run(ctx context.Context) error {
	defer h.stop()
	t := time.NewTicker(h.cfg.Interval)
	defer t.Stop()
	for n := 0; ; n++ {
		if n%5 == 0 || h.watched() {
			h.refresh(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-h.poke:
			n = -1 // a poke refreshes now and counts as a watched round
		}
	}
}

// Refresh asks Run to poll now (after a fault was injected or healed, so
// the page sees it at once). It does not wait.
func (h *Hub) Refresh() {
	select {
	case h.poke <- struct{}{}:
	default:
	}
}

func (h *Hub) watched() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) > 0 || h.cfg.Now().Sub(h.wanted) < h.cfg.IdleAfter
}

// Latest returns the newest State and its JSON encoding, and keeps the Hub
// polling at full rate for IdleAfter. The State must not be modified.
func (h *Hub) Latest() (*State, []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wanted = h.cfg.Now()
	return h.state, h.data
}

// Subscribe returns a channel that receives every new State's JSON (the
// newest only, when the reader is slow) and is closed when the Hub stops,
// and a cancel func that must be called when the reader is done.
func (h *Hub) Subscribe() (<-chan []byte, func()) {
	ch := make(chan []byte, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		close(ch)
		return ch, func() {}
	}
	h.subs[ch] = struct{}{}
	ch <- h.data
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if _, ok := h.subs[ch]; ok {
				delete(h.subs, ch)
				close(ch)
			}
		})
	}
}

func (h *Hub) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	for ch := range h.subs {
		delete(h.subs, ch)
		close(ch)
	}
	close(h.done)
}

func (h *Hub) publish(s *State) {
	data, err := json.Marshal(s)
	if err != nil {
		h.cfg.Logger.Warn("dashboard: encoding state", "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state, h.data = s, data
	for ch := range h.subs {
		select { // keep only the newest state for a slow reader
		case <-ch:
		default:
		}
		ch <- data
	}
}
