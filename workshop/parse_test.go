package workshop

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(n string) (string, bool) { v, ok := m[n]; return v, ok }
}

func TestSplitWords(t *testing.T) {
	vars := env(map[string]string{"GATEWAY": "http://gw", "TOKEN": "a b", "X": "1"})
	tests := []struct {
		in      string
		want    []string
		heredoc string
		wantErr bool
	}{
		{in: `edgectl function list`, want: []string{"edgectl", "function", "list"}},
		{in: `curl -si "$GATEWAY/greet?name=edge"`, want: []string{"curl", "-si", "http://gw/greet?name=edge"}},
		{in: `curl -H 'Authorization: Bearer $TOKEN' x`, want: []string{"curl", "-H", "Authorization: Bearer $TOKEN", "x"}},
		{in: `curl -H "Authorization: Bearer $TOKEN" x`, want: []string{"curl", "-H", "Authorization: Bearer a b", "x"}},
		{in: `echo ${X}y $X\ z`, want: []string{"echo", "1y", "1 z"}},
		{in: `echo "a\"b" '' "\$X"`, want: []string{"echo", `a"b`, "", "$X"}},
		{in: `cat > $GATEWAY/f.go <<'EOF'`, want: []string{"cat", "http://gw/f.go"}, heredoc: "'EOF'"},
		{in: `cat > f.go <<EOF`, want: []string{"cat", "f.go"}, heredoc: "EOF"},
		// Hostile or unsupported forms are errors, never silently run.
		{in: `curl x | grep y`, wantErr: true},
		{in: `edgectl a; rm -rf /`, wantErr: true},
		{in: `edgectl a && b`, wantErr: true},
		{in: `edgectl $(whoami)`, wantErr: true},
		{in: "edgectl `whoami`", wantErr: true},
		{in: `echo "$(whoami)"`, wantErr: true},
		{in: `edgectl > out.txt`, wantErr: true},
		{in: `cat > f <<EOF extra`, wantErr: true},
		{in: `ls *.go`, wantErr: true},
		{in: `echo 'unterminated`, wantErr: true},
		{in: `echo "unterminated`, wantErr: true},
		{in: `echo $UNSET`, wantErr: true},
		{in: `echo ${X`, wantErr: true},
		{in: `echo $`, wantErr: true},
		{in: `echo \`, wantErr: true},
		{in: `cd ~`, wantErr: true},
	}
	for _, tt := range tests {
		got, hd, err := splitWords(tt.in, vars)
		if tt.wantErr {
			if err == nil {
				t.Errorf("splitWords(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) || hd != tt.heredoc {
			t.Errorf("splitWords(%q) = %q, %q, %v; want %q, %q", tt.in, got, hd, err, tt.want, tt.heredoc)
		}
	}
}

func TestParseCommandsHeredocAndContinuation(t *testing.T) {
	b := &block{file: "x.md", line: 10, kind: "sh", body: strings.Join([]string{
		"# a comment",
		"export NAME=value",
		"cat > $WORKDIR/f.go <<EOF",
		"url: \"$WEB\" \\$KEEP",
		"EOF",
		"cat > $WORKDIR/g.go <<'EOF'",
		"raw $WEB",
		"EOF",
		"edgectl status demo \\",
		"  --wait",
	}, "\n")}
	cmds, err := parseCommands(b, env(map[string]string{"WORKDIR": "/w", "WEB": "http://o"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 4 {
		t.Fatalf("got %d commands, want 4: %+v", len(cmds), cmds)
	}
	if got := cmds[0].words; !reflect.DeepEqual(got, []string{"export", "NAME", "value"}) {
		t.Errorf("export = %q", got)
	}
	if h := cmds[1].heredoc; h == nil || h.path != "/w/f.go" || h.body != "url: \"http://o\" $KEEP\n" {
		t.Errorf("expanded heredoc = %+v", h)
	}
	if h := cmds[2].heredoc; h == nil || h.body != "raw $WEB\n" {
		t.Errorf("quoted heredoc = %+v", h)
	}
	if got := cmds[3].words; !reflect.DeepEqual(got, []string{"edgectl", "status", "demo", "--wait"}) {
		t.Errorf("continued line = %q", got)
	}
	if cmds[3].line != 19 {
		t.Errorf("line = %d, want 19", cmds[3].line)
	}

	unclosed := &block{file: "x.md", line: 1, body: "cat > f <<EOF\nno end"}
	if _, err := parseCommands(unclosed, env(nil)); err == nil {
		t.Error("unclosed heredoc accepted")
	}
	notCat := &block{file: "x.md", line: 1, body: "tee > f <<EOF\nEOF"}
	if _, err := parseCommands(notCat, env(nil)); err == nil {
		t.Error("redirect on a command other than cat accepted")
	}
}

func TestParseBlocks(t *testing.T) {
	page := "# Lab\n\n```sh workshop retry=5s\ncurl x\n```\n\n```text expect\nHTTP/1.1 200 OK\n```\n\n" +
		"```go\npackage x\n```\n\n```sh workshop exit=1\nedgectl bad\n```\n\n```sh workshop pending=chaos commands not merged yet\nedgectl chaos stop node:x\n```\n"
	bs, err := parseBlocks("p.md", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 3 {
		t.Fatalf("got %d blocks, want 3", len(bs))
	}
	if bs[0].retry != 5*time.Second || bs[0].expect == nil || bs[0].expect.body != "HTTP/1.1 200 OK" {
		t.Errorf("block 0 = %+v", bs[0])
	}
	if bs[1].exit != 1 || bs[1].expect != nil {
		t.Errorf("block 1 = %+v", bs[1])
	}
	if bs[2].pend != "chaos commands not merged yet" {
		t.Errorf("pending = %q", bs[2].pend)
	}

	bad := []string{
		"```sh workshop\nx\n",      // unclosed
		"```text expect\nx\n```\n", // expect without sh
		"```sh workshop\nx\n```\n```go\n```\n```text expect\ny\n```\n", // expect not right after sh
		"```sh workshop\nx\n```\n```text expect\ny\n```\n```text expect\nz\n```\n",
		"```sh workshop exit=300\nx\n```\n",
		"```sh workshop retry=forever\nx\n```\n",
		"```sh workshop colour=red\nx\n```\n",
		"```sh workshop pending=\nx\n```\n",
	}
	for _, p := range bad {
		if _, err := parseBlocks("bad.md", []byte(p)); err == nil {
			t.Errorf("parseBlocks(%q) accepted", p)
		}
	}
}

func TestMatchExpect(t *testing.T) {
	out := "HTTP/1.1 403 Forbidden\nX-Cache: LambdaExecutionError from edgelab\nX-Edgelab-Functions: viewer-request=auth:3\nbody\n"
	tests := []struct {
		want string
		ok   bool
	}{
		{"HTTP/1.1 403 Forbidden", true},
		{"HTTP/1.1 403\nX-Cache: Lambda...Error from edgelab", true},
		{"\n  \nX-Edgelab-Functions: viewer-request=auth:...\n", true},
		{"X-Cache: ...\nHTTP/1.1 403", false}, // order matters
		{"HTTP/1.1 200 OK", false},
		{"X-Cache: Hit...edgelab", false},
		{"body\nbody", false}, // each output line matches once
	}
	for _, tt := range tests {
		err := matchExpect(tt.want, out)
		if (err == nil) != tt.ok {
			t.Errorf("matchExpect(%q) = %v, want ok=%v", tt.want, err, tt.ok)
		}
	}
}

func TestCurl(t *testing.T) {
	var got *http.Request
	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("X-Cache", "Miss from edgelab")
		w.Header().Set("Location", "/elsewhere")
		w.WriteHeader(http.StatusFound)
		w.Write([]byte("moved"))
	}))
	defer srv.Close()

	req, err := parseCurl([]string{"-si", "-H", "Host: demo.edgelab.test", "-H", "X-Viewer-Region: ap-northeast-1", "-X", "PUT", "-d", "a=1", srv.URL + "/p?q=1"})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if code := req.do(context.Background(), &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if got.Method != "PUT" || got.Host != "demo.edgelab.test" || got.Header.Get("X-Viewer-Region") != "ap-northeast-1" || gotBody != "a=1" || got.URL.RawQuery != "q=1" {
		t.Errorf("server saw %s %s host %q headers %v body %q", got.Method, got.URL, got.Host, got.Header, gotBody)
	}
	// Redirects are not followed; -i prints the status line and headers.
	if err := matchExpect("HTTP/1.1 302 Found\nLocation: /elsewhere\nX-Cache: Miss from edgelab\n\nmoved", out.String()); err != nil {
		t.Errorf("%v\n%s", err, out.String())
	}

	req, err = parseCurl([]string{"-s", "-o", "/dev/null", "-w", `%{http_code}\n`, srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	req.do(context.Background(), &out)
	if out.String() != "302\n" {
		t.Errorf("-w output = %q, want 302", out.String())
	}
	req, err = parseCurl([]string{"-s", "-o", "/dev/null", "-w", `%{http_code} %{time_total}s\n`, srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	req.do(context.Background(), &out)
	if ok, _ := regexp.MatchString(`^302 [0-9]+\.[0-9]{6}s\n$`, out.String()); !ok {
		t.Errorf("-w with time_total = %q, want 302 and seconds", out.String())
	}

	// Nothing listens: curl's exit status 7.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	req, _ = parseCurl([]string{"-s", deadURL})
	if code := req.do(context.Background(), &out); code != 7 {
		t.Errorf("exit %d for a closed port, want 7", code)
	}
}

func TestParseCurlRejects(t *testing.T) {
	bad := [][]string{
		{},
		{"-L", "http://x"},
		{"-sL", "http://x"},
		{"-o", "out.html", "http://x"},
		{"-w", "%{time_connect}", "http://x"},
		{"-w", "%{http_code} total", "http://x"},
		{"-d", "@/etc/passwd", "http://x"},
		{"-H", "NoColon", "http://x"},
		{"-H", "Bad Name: v", "http://x"},
		{"-H", "X: a\r\nInjected: b", "http://x"},
		{"-X", "GET POST", "http://x"},
		{"-H"},
		{"http://a", "http://b"},
		{"file:///etc/passwd"},
		{"not a url"},
	}
	for _, args := range bad {
		if _, err := parseCurl(args); err == nil {
			t.Errorf("parseCurl(%q) accepted", args)
		}
	}
	r, err := parseCurl([]string{"-d", "x=1", "http://h/"})
	if err != nil || r.method != "POST" || r.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("-d defaults: %+v, %v", r, err)
	}
}

func TestScaledRealistic(t *testing.T) {
	topo, err := scaledRealistic(20)
	if err != nil {
		t.Fatal(err)
	}
	p, err := topo.Profile("realistic")
	if err != nil {
		t.Fatal(err)
	}
	if d := p.StageDelay("ap-northeast-1"); d != 12*time.Second {
		t.Errorf("ap-northeast-1 stage delay = %s, want 4m/20 = 12s", d)
	}
	if d := p.StageDelay("us-east-1"); d != 0 {
		t.Errorf("home stage delay = %s, want 0", d)
	}
}
