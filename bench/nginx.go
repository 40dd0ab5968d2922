package bench

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
)

// NginxConfig holds what the generated nginx.conf needs.
type NginxConfig struct {
	// Dir is the prefix directory: the config, pid, logs, temp paths and
	// the cache live under it.
	Dir string
	// Origin is the sample origin's host:port.
	Origin string
	// CacheListen serves proxy_cache (scenario a); ProxyListen proxies
	// without a cache (scenario b). Both host:port on loopback.
	CacheListen, ProxyListen string
	// Workers is worker_processes; 0 means "auto" (one per core).
	Workers int
	// User, when set, is the `user` directive (nginx started as root
	// otherwise drops to nobody, who cannot write a 0700 temp dir).
	User string
}

// Render returns the nginx.conf text. Addresses and paths are validated so
// the config cannot be broken by a stray quote or semicolon.
func (c NginxConfig) Render() (string, error) {
	for _, a := range []string{c.Origin, c.CacheListen, c.ProxyListen} {
		if _, _, err := net.SplitHostPort(a); err != nil || strings.ContainsAny(a, " ;{}\"'\n\t\\") {
			return "", fmt.Errorf("nginx config: bad address %q", a)
		}
	}
	if c.Dir == "" || !filepath.IsAbs(c.Dir) || strings.ContainsAny(c.Dir, " ;{}\"'\n\t\\$") {
		return "", fmt.Errorf("nginx config: prefix dir must be an absolute path without spaces or quotes: %q", c.Dir)
	}
	if strings.ContainsAny(c.User, " ;{}\"'\n\t\\$") {
		return "", fmt.Errorf("nginx config: bad user %q", c.User)
	}
	workers := "auto"
	if c.Workers > 0 {
		workers = fmt.Sprint(c.Workers)
	}
	var b strings.Builder
	if c.User != "" {
		fmt.Fprintf(&b, "user %s;\n", c.User)
	}
	p := func(name string) string { return filepath.Join(c.Dir, name) }
	fmt.Fprintf(&b, `worker_processes %s;
daemon off;
pid %s;
error_log %s warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %s;
    proxy_temp_path %s;
    fastcgi_temp_path %s;
    uwsgi_temp_path %s;
    scgi_temp_path %s;
    proxy_cache_path %s levels=1:2 keys_zone=bench:16m max_size=256m inactive=1h use_temp_path=off;
    upstream origin {
        server %s;
        keepalive 256;
    }
    # (a) proxy_cache hit
    server {
        listen %s;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache bench;
            proxy_cache_valid 200 1h;
            add_header X-Cache $upstream_cache_status;
        }
    }
    # (b) proxy without cache
    server {
        listen %s;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache off;
        }
    }
}
`, workers, p("nginx.pid"), p("error.log"), p("tmp-body"), p("tmp-proxy"), p("tmp-fastcgi"), p("tmp-uwsgi"), p("tmp-scgi"),
		p("cache"), c.Origin, c.CacheListen, c.ProxyListen)
	return b.String(), nil
}
