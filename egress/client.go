package egress

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// Client returns an HTTP client that connects only where p allows: every
// connection, redirects included, is checked on the address actually
// dialled (net.Dialer's Control hook, after name resolution). It ignores
// proxy settings (a proxy would be the address dialled). Its idle
// connections close after idle.
func Client(p *Policy, idle time.Duration) *http.Client {
	t := &http.Transport{
		Proxy:               nil,
		DialContext:         dialer(p),
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     idle,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	return &http.Client{Transport: t, CheckRedirect: checkRedirect}
}

// checkRedirect keeps net/http's limit of 10 redirects; the address of
// each is checked when it is dialled.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fmt.Errorf("stopped after 10 redirects")
	}
	return nil
}

// dialer returns a DialContext that checks each resolved address before
// connecting to it.
func dialer(p *Policy) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("dialing %s: %w", addr, err)
		}
		d := net.Dialer{
			Timeout: 30 * time.Second,
			Control: func(_, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					return fmt.Errorf("%w: %q", errNotIP, address)
				}
				return p.Check(host, ap)
			},
		}
		return d.DialContext(ctx, network, addr)
	}
}

// Clients keeps one Client per policy (by its encoding), so that
// invocations under one distribution's policy share a connection pool
// and no pool is shared across policies. Safe for concurrent use; the
// zero value is ready.
type Clients struct {
	mu sync.Mutex
	m  map[string]*http.Client
}

// maxClients bounds the policies Clients keeps; beyond it the pools are
// dropped and started again.
const maxClients = 256

// clientIdle is how long the clients' idle connections are kept.
const clientIdle = 30 * time.Second

// For returns the client for p (nil: the zero Policy).
func (c *Clients) For(p *Policy) *http.Client {
	key := p.Encode()
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.m[key]; ok {
		return cl
	}
	if c.m == nil || len(c.m) >= maxClients {
		for _, old := range c.m {
			old.CloseIdleConnections()
		}
		c.m = map[string]*http.Client{}
	}
	cl := Client(p, clientIdle)
	c.m[key] = cl
	return cl
}
