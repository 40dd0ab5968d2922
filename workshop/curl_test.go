package workshop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// curlRequest is the subset of curl the workshop uses.
type curlRequest struct {
	method   string
	url      string
	header   http.Header
	host     string
	data     *string
	include  bool // -i: status line and headers before the body
	discard  bool // -o /dev/null
	writeOut string
}

// parseCurl parses curl's arguments (without the leading "curl"). Anything
// outside the supported subset is an error, so a page cannot show a flag the
// test silently ignores.
func parseCurl(args []string) (*curlRequest, error) {
	r := &curlRequest{header: http.Header{}}
	next := func(i *int, flag string) (string, error) {
		if *i+1 >= len(args) {
			return "", fmt.Errorf("curl: %s needs a value", flag)
		}
		*i++
		return args[*i], nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			if r.url != "" {
				return nil, fmt.Errorf("curl: more than one URL (%q, %q)", r.url, a)
			}
			r.url = a
			continue
		}
		if !strings.HasPrefix(a, "--") && len(a) > 2 {
			// Combined short flags: -si, -sI is not supported.
			for _, f := range a[1:] {
				switch f {
				case 's':
				case 'i':
					r.include = true
				default:
					return nil, fmt.Errorf("curl: unsupported flag -%c in %q", f, a)
				}
			}
			continue
		}
		switch a {
		case "-s", "--silent":
		case "-i", "--include":
			r.include = true
		case "-H", "--header":
			v, err := next(&i, a)
			if err != nil {
				return nil, err
			}
			k, val, ok := strings.Cut(v, ":")
			k = strings.TrimSpace(k)
			if !ok || k == "" || strings.ContainsAny(k, " \t\r\n") || strings.ContainsAny(val, "\r\n") {
				return nil, fmt.Errorf("curl: bad header %q", v)
			}
			val = strings.TrimSpace(val)
			if http.CanonicalHeaderKey(k) == "Host" {
				r.host = val
				continue
			}
			r.header.Add(k, val)
		case "-X", "--request":
			v, err := next(&i, a)
			if err != nil {
				return nil, err
			}
			if v == "" || strings.ContainsAny(v, " \t\r\n") {
				return nil, fmt.Errorf("curl: bad method %q", v)
			}
			r.method = v
		case "-d", "--data":
			v, err := next(&i, a)
			if err != nil {
				return nil, err
			}
			if strings.HasPrefix(v, "@") {
				return nil, errors.New("curl: -d @file is not supported")
			}
			r.data = &v
		case "-o", "--output":
			v, err := next(&i, a)
			if err != nil {
				return nil, err
			}
			if v != "/dev/null" {
				return nil, fmt.Errorf("curl: only -o /dev/null is supported, not %q", v)
			}
			r.discard = true
		case "-w", "--write-out":
			v, err := next(&i, a)
			if err != nil {
				return nil, err
			}
			if rest := strings.NewReplacer(`%{http_code}`, "", `%{time_total}`, "", `\n`, "", " ", "", "s", "").Replace(v); rest != "" {
				return nil, fmt.Errorf("curl: only -w with %%{http_code}, %%{time_total}, spaces, s and \\n is supported, not %q", v)
			}
			r.writeOut = v
		default:
			return nil, fmt.Errorf("curl: unsupported flag %q", a)
		}
	}
	if r.url == "" {
		return nil, errors.New("curl: no URL")
	}
	u, err := url.Parse(r.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("curl: bad URL %q", r.url)
	}
	if r.method == "" {
		r.method = http.MethodGet
		if r.data != nil {
			r.method = http.MethodPost
		}
	}
	if r.data != nil && r.header.Get("Content-Type") == "" {
		r.header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return r, nil
}

// curlClient never follows redirects, as curl without -L.
var curlClient = &http.Client{
	Timeout:       60 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// do sends the request and writes what curl would print. It returns curl's
// exit status: 0 for any HTTP answer, 7 when it could not connect.
func (r *curlRequest) do(ctx context.Context, w io.Writer) int {
	var body io.Reader
	if r.data != nil {
		body = strings.NewReader(*r.data)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		fmt.Fprintf(w, "curl: %v\n", err)
		return 3
	}
	req.Header = r.header.Clone()
	req.Header.Set("User-Agent", "curl/8.5.0")
	req.Header.Set("Accept", "*/*")
	if r.host != "" {
		req.Host = r.host
	}
	start := time.Now()
	resp, err := curlClient.Do(req)
	if err != nil {
		fmt.Fprintf(w, "curl: (7) %v\n", err)
		return 7
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Fprintf(w, "curl: (56) %v\n", err)
		return 56
	}
	if r.include {
		fmt.Fprintf(w, "%s %s\n", resp.Proto, resp.Status)
		keys := make([]string, 0, len(resp.Header))
		for k := range resp.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range resp.Header[k] {
				fmt.Fprintf(w, "%s: %s\n", k, v)
			}
		}
		fmt.Fprintln(w)
	}
	if !r.discard {
		w.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			fmt.Fprintln(w) // keep the next command's output on its own line
		}
	}
	if r.writeOut != "" {
		// time_total as curl prints it: seconds, six decimals, until the
		// whole body was read.
		out := strings.NewReplacer(`%{http_code}`, fmt.Sprintf("%03d", resp.StatusCode),
			`%{time_total}`, fmt.Sprintf("%.6f", time.Since(start).Seconds()), `\n`, "\n").Replace(r.writeOut)
		fmt.Fprint(w, out)
	}
	return 0
}
