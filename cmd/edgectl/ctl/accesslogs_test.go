package ctl_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgelab/edgelab/accesslog"
	"github.com/edgelab/edgelab/cmd/edgectl/ctl"
	"github.com/edgelab/edgelab/internal/poll"
)

// cloudFrontFields is CloudFront's documented standard log field list, in
// order (CloudFront Developer Guide, "Log file fields").
var cloudFrontFields = strings.Fields(`date time x-edge-location sc-bytes c-ip cs-method cs(Host)
cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type
x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol
ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port
time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start
sc-range-end`)

// readCloudFrontLog parses a log as a CloudFront log tool does: "#Version:
// 1.0", a #Fields line that must be the documented list, then
// tab-separated values, one entry a line.
func readCloudFrontLog(t *testing.T, data []byte) []map[string]string {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(data))
	if !sc.Scan() || sc.Text() != "#Version: 1.0" {
		t.Fatalf("first line %q, want #Version: 1.0", sc.Text())
	}
	if !sc.Scan() || sc.Text() != "#Fields: "+strings.Join(cloudFrontFields, " ") {
		t.Fatalf("second line %q, want the documented #Fields", sc.Text())
	}
	var out []map[string]string
	for sc.Scan() {
		vals := strings.Split(sc.Text(), "\t")
		if len(vals) != len(cloudFrontFields) {
			t.Fatalf("entry with %d fields: %q", len(vals), sc.Text())
		}
		e := map[string]string{}
		for i, f := range cloudFrontFields {
			e[f] = vals[i]
		}
		out = append(out, e)
	}
	return out
}

// writeLab writes a lab.json naming three PoPs and access logs for two of
// them (NRT and SYD; GRU has served nothing), as the lab's nodes do.
func writeLab(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	lab := `{"edges": [{"id": "edge-ap-northeast-1-1", "region": "ap-northeast-1", "pop": "NRT"},
		{"id": "edge-ap-southeast-2-1", "region": "ap-southeast-2", "pop": "SYD"},
		{"id": "edge-sa-east-1-1", "region": "sa-east-1", "pop": "GRU"}]}`
	if err := os.WriteFile(filepath.Join(dir, "lab.json"), []byte(lab), 0o600); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	for i, node := range []string{"edge-ap-northeast-1-1", "edge-ap-southeast-2-1"} {
		p := filepath.Join(dir, "nodes", node, "access.log")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		w, c, err := accesslog.OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		pop := []string{"NRT", "SYD"}[i]
		for j, result := range []string{"Miss", "Hit"} {
			w.Write(accesslog.Entry{Time: t0.Add(time.Duration(2*j+i) * time.Second), EdgeLocation: pop, Method: "GET",
				Host: "demo.edgelab.test", URIStem: "/objects/1024", Status: 200, ResultType: result, ResponseResultType: result,
				UserAgent: "curl/8.0 (x)", ContentLength: -1})
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "lab.json")
}

func runCtl(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := ctl.Execute(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestLogsAccess: `edgectl logs access` prints the lab's PoPs' logs as one
// CloudFront log in time order; --pop and --file choose logs; -o json
// keys the entries by field name.
func TestLogsAccess(t *testing.T) {
	labFile := writeLab(t)
	out, errOut, code := runCtl(t, "logs", "access", "--lab", labFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []string
	for _, e := range readCloudFrontLog(t, []byte(out)) {
		got = append(got, e["time"]+" "+e["x-edge-location"]+" "+e["x-edge-result-type"]+" "+e["cs(User-Agent)"])
	}
	want := "03:00:00 NRT Miss curl/8.0%20(x),03:00:01 SYD Miss curl/8.0%20(x),03:00:02 NRT Hit curl/8.0%20(x),03:00:03 SYD Hit curl/8.0%20(x)"
	if strings.Join(got, ",") != want {
		t.Errorf("entries %v\nwant %s", got, want)
	}

	out, _, code = runCtl(t, "logs", "access", "--lab", labFile, "--pop", "SYD", "-o", "json")
	var entries []map[string]string
	if err := json.Unmarshal([]byte(out), &entries); code != 0 || err != nil {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	if len(entries) != 2 || entries[0]["x-edge-location"] != "SYD" || entries[1]["x-edge-result-type"] != "Hit" || len(entries[0]) != len(cloudFrontFields) {
		t.Errorf("--pop SYD -o json: %v", entries)
	}

	nrt := filepath.Join(filepath.Dir(labFile), "nodes", "edge-ap-northeast-1-1", "access.log")
	out, _, code = runCtl(t, "logs", "access", "--file", nrt)
	if es := readCloudFrontLog(t, []byte(out)); code != 0 || len(es) != 2 || es[0]["x-edge-location"] != "NRT" {
		t.Errorf("--file: exit %d, %v", code, es)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--node", "edge-mars-1"}, `--node "edge-mars-1": not a PoP of the lab`},
		{[]string{"--file", nrt, "--pop", "NRT"}, "--file reads the files given"},
		{[]string{"--lab", filepath.Join(t.TempDir(), "none.json")}, "reading lab file"},
	} {
		args := append([]string{"logs", "access"}, bad.args...)
		if !slices.Contains(bad.args, "--lab") {
			args = append(args, "--lab", labFile)
		}
		if _, errOut, code := runCtl(t, args...); code == 0 || !strings.Contains(errOut, bad.want) {
			t.Errorf("%v: exit %d, %q; want an error containing %q", bad.args, code, errOut, bad.want)
		}
	}
}

// lockedBuffer is an io.Writer safe to read while a command writes to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogsAccessFollow: --follow prints the merged log, then the lines the
// nodes append (a PoP whose log did not exist yet too), until cancelled.
func TestLogsAccessFollow(t *testing.T) {
	labFile := writeLab(t)
	var out, errOut lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- ctl.Execute(ctx, []string{"logs", "access", "--lab", labFile, "--follow"}, &out, &errOut)
	}()
	poll.Until(t, 10*time.Second, "the merged log", func() error {
		if n := strings.Count(out.String(), "/objects/1024"); n != 4 {
			return fmt.Errorf("%d entries so far", n)
		}
		return nil
	})
	dir := filepath.Dir(labFile)
	for _, node := range []string{"edge-ap-northeast-1-1", "edge-sa-east-1-1"} { // GRU's log is new
		p := filepath.Join(dir, "nodes", node, "access.log")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		w, c, err := accesslog.OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(accesslog.Entry{Time: time.Now(), EdgeLocation: node, URIStem: "/later", Status: 200, ResultType: "Miss"})
		c.Close()
	}
	poll.Until(t, 10*time.Second, "the appended lines", func() error {
		got := out.String()
		if !strings.Contains(got, "edge-ap-northeast-1-1\t") || !strings.Contains(got, "edge-sa-east-1-1\t") {
			return fmt.Errorf("not yet: %q", got)
		}
		return nil
	})
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got := out.String()
	if strings.Count(got, "#Version") != 1 || strings.Count(got, "/later") != 2 {
		t.Errorf("followed output has %d headers, %d new lines:\n%s", strings.Count(got, "#Version"), strings.Count(got, "/later"), got)
	}
	readCloudFrontLog(t, []byte(got)) // still one well-formed log
	if _, errOut, code := runCtl(t, "logs", "access", "--lab", labFile, "--follow", "-o", "json"); code == 0 || !strings.Contains(errOut, "does not go with -o json") {
		t.Errorf("--follow -o json: exit %d, %q", code, errOut)
	}
}
