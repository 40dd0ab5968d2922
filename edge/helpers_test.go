package edge_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/edge"
)

func TestCookie(t *testing.T) {
	h := http.Header{}
	h.Add("Cookie", `session=abc; theme="dark"; broken; =novalue; session=second`)
	h.Add("Cookie", "group=b")
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"session", "abc", true},
		{"theme", "dark", true},
		{"group", "b", true},
		{"broken", "", false},
		{"missing", "", false},
	}
	for _, tt := range tests {
		got, ok := edge.Cookie(h, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Cookie(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	want := map[string]string{"session": "abc", "theme": "dark", "group": "b"}
	if got := edge.Cookies(h); !reflect.DeepEqual(got, want) {
		t.Errorf("Cookies = %v, want %v", got, want)
	}
	if got := edge.Cookies(http.Header{}); len(got) != 0 {
		t.Errorf("Cookies(empty) = %v", got)
	}
	rh := http.Header{}
	edge.SetCookie(rh, "a=1; Path=/")
	edge.SetCookie(rh, "b=2")
	if got := rh.Values("Set-Cookie"); !reflect.DeepEqual(got, []string{"a=1; Path=/", "b=2"}) {
		t.Errorf("Set-Cookie = %v", got)
	}
	qh := http.Header{}
	edge.AddRequestCookie(qh, "x", "1")
	edge.AddRequestCookie(qh, "y", "2")
	if got := qh.Get("Cookie"); got != "x=1; y=2" {
		t.Errorf("AddRequestCookie = %q", got)
	}
}

func TestQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"b=2&a=1", "a=1&b=2"},
		{"Size=LARGE&color=Red&color=blue", "color=red&color=blue&size=large"},
		{"a=1&&b=%zz&c", "a=1&c="},
		{"?q=x", "q=x"},
		{"k=a+b&K=c%20d", "k=a+b&k=c+d"},
	}
	for _, tt := range tests {
		if got := edge.NormalizeQuery(tt.in); got != tt.want {
			t.Errorf("NormalizeQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	v := edge.ParseQuery("a=1&a=2&b=%zz&c=3")
	if !reflect.DeepEqual(v["a"], []string{"1", "2"}) || v.Get("c") != "3" {
		t.Errorf("ParseQuery = %v", v)
	}
	if got := edge.EncodeQuery(v); got != "a=1&a=2&c=3" {
		t.Errorf("EncodeQuery = %q", got)
	}
	req := &edge.Request{QueryString: "lang=fr"}
	if req.Query().Get("lang") != "fr" {
		t.Error("Request.Query")
	}
}

func TestBase64(t *testing.T) {
	data := []byte{0xfb, 0xff, 0x01, 'h', 'i'}
	for _, enc := range []string{edge.Base64Encode(data), edge.Base64URLEncode(data), strings.TrimRight(edge.Base64Encode(data), "=")} {
		got, err := edge.Base64Decode(enc)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("Base64Decode(%q) = %v, %v", enc, got, err)
		}
	}
	if _, err := edge.Base64Decode("!!notbase64"); err == nil {
		t.Error("Base64Decode accepted garbage")
	}
}

func TestHMAC(t *testing.T) {
	// RFC 4231 test case 2.
	mac := edge.HMACSHA256Hex([]byte("Jefe"), []byte("what do ya want for nothing?"))
	if want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; mac != want {
		t.Errorf("HMACSHA256Hex = %s, want %s", mac, want)
	}
	raw := edge.HMACSHA256([]byte("k"), []byte("m"))
	if !edge.VerifyHMACSHA256([]byte("k"), []byte("m"), raw) {
		t.Error("VerifyHMACSHA256 rejected a good MAC")
	}
	if edge.VerifyHMACSHA256([]byte("k"), []byte("m2"), raw) || edge.VerifyHMACSHA256([]byte("k"), []byte("m"), nil) {
		t.Error("VerifyHMACSHA256 accepted a bad MAC")
	}
	if got := edge.SHA256Hex(nil); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("SHA256Hex = %s", got)
	}
}

func TestResponseBuilders(t *testing.T) {
	r := edge.NewResponse(403, "Forbidden")
	if r.Status != 403 || r.StatusDescription != "Forbidden" || string(r.Body) != "Forbidden" || r.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("NewResponse = %+v", r)
	}
	rd := edge.Redirect(302, "https://example.com/")
	if rd.Status != 302 || rd.Header.Get("Location") != "https://example.com/" || len(rd.Body) != 0 {
		t.Errorf("Redirect = %+v", rd)
	}
	h := edge.HTMLResponse(200, "<p>hi</p>").SetHeader("Cache-Control", "max-age=60").AddHeader("X-A", "1").AddHeader("X-A", "2")
	if h.Header.Get("Content-Type") != "text/html; charset=utf-8" || h.Header.Get("Cache-Control") != "max-age=60" || len(h.Header.Values("X-A")) != 2 {
		t.Errorf("HTMLResponse = %+v", h)
	}
	j, err := edge.JSONResponse(200, map[string]int{"a": 1})
	if err != nil || string(j.Body) != `{"a":1}` {
		t.Errorf("JSONResponse = %+v, %v", j, err)
	}
	if _, err := edge.JSONResponse(200, func() {}); err == nil {
		t.Error("JSONResponse accepted a func")
	}
	var zero edge.Response
	zero.SetHeader("A", "b").SetBody("x")
	if zero.Header.Get("A") != "b" || string(zero.Body) != "x" {
		t.Error("SetHeader on nil map")
	}
	var req edge.Request
	req.SetHeader("X-Y", "z")
	if req.Header.Get("X-Y") != "z" {
		t.Error("Request.SetHeader on nil map")
	}
}

type fakeRuntime struct {
	got *http.Request
}

func (f *fakeRuntime) Log(context.Context, string) {}
func (f *fakeRuntime) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	f.got = req
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Fake", "1")
	rec.WriteHeader(201)
	rec.WriteString("from runtime")
	return rec.Result(), nil
}

func TestFetchUsesRuntime(t *testing.T) {
	rt := &fakeRuntime{}
	ctx := edge.NewContext(context.Background(), edge.Info{}, rt)
	h := http.Header{"X-In": {"v"}}
	resp, err := edge.Fetch(ctx, "", "http://auth.internal/check", h, []byte("body"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 201 || string(resp.Body) != "from runtime" || resp.Header.Get("X-Fake") != "1" {
		t.Errorf("resp = %+v", resp)
	}
	if rt.got.Method != http.MethodGet || rt.got.Header.Get("X-In") != "v" {
		t.Errorf("runtime got %s %v", rt.got.Method, rt.got.Header)
	}
}

func TestFetchFallbackHonoursDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Write([]byte("ok " + r.Method))
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	resp, err := edge.Fetch(context.Background(), http.MethodPost, srv.URL+"/", nil, nil)
	if err != nil || string(resp.Body) != "ok POST" || resp.Truncated {
		t.Fatalf("Fetch = %+v, %v", resp, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := edge.Fetch(ctx, "GET", srv.URL+"/slow", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow Fetch err = %v, want deadline exceeded", err)
	}
	if _, err := edge.Fetch(context.Background(), "GET", "://bad", nil, nil); err == nil {
		t.Error("Fetch accepted a bad URL")
	}
}
