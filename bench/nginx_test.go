package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestNginxConfigRender(t *testing.T) {
	dir := t.TempDir()
	c := NginxConfig{Dir: dir, Origin: "127.0.0.1:9001", CacheListen: "127.0.0.1:9101", ProxyListen: "127.0.0.1:9102", User: "root"}
	conf, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"user root;", "daemon off;", "server 127.0.0.1:9001;", "listen 127.0.0.1:9101;",
		"listen 127.0.0.1:9102;", "proxy_cache bench;", "proxy_cache off;", "keepalive 256;", filepath.Join(dir, "cache"),
		"worker_processes auto;"} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q", want)
		}
	}
	// With nginx installed, the generated config must pass nginx -t.
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			t.Log("nginx not installed: skipping nginx -t")
			return
		}
		bin = "/usr/sbin/nginx"
	}
	if os.Geteuid() != 0 {
		c.User = ""
		if conf, err = c.Render(); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-t", "-p", dir, "-c", path).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}

func TestNginxConfigRejectsHostile(t *testing.T) {
	ok := NginxConfig{Dir: "/tmp/x", Origin: "127.0.0.1:1", CacheListen: "127.0.0.1:2", ProxyListen: "127.0.0.1:3"}
	for _, tc := range []struct {
		name string
		mod  func(*NginxConfig)
	}{
		{"directive injection in origin", func(c *NginxConfig) { c.Origin = "127.0.0.1:1; include /etc/passwd" }},
		{"origin without port", func(c *NginxConfig) { c.Origin = "127.0.0.1" }},
		{"brace in listen", func(c *NginxConfig) { c.CacheListen = "127.0.0.1:2}" }},
		{"relative dir", func(c *NginxConfig) { c.Dir = "tmp" }},
		{"empty dir", func(c *NginxConfig) { c.Dir = "" }},
		{"space in dir", func(c *NginxConfig) { c.Dir = "/tmp/a b" }},
		{"variable in dir", func(c *NginxConfig) { c.Dir = "/tmp/$x" }},
		{"newline in user", func(c *NginxConfig) { c.User = "root;\nload_module x" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			if conf, err := c.Render(); err == nil {
				t.Fatalf("accepted:\n%s", conf)
			}
		})
	}
	if _, err := ok.Render(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
}
