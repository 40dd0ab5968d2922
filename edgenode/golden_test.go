package edgenode

import (
	"bufio"
	"context"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/eventtype"

	"github.com/edgelab/edgelab/examples"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// A golden case (testdata/golden/<case>.txtar) is a txtar archive:
//
//	-- config --          event: viewer-request   (one line per association:
//	                      event: <event> [include-body])
//	                      path: /gen/*             (behavior path, default "default")
//	                      repeat: 2                (send the request N times; checks apply to the last)
//	                      example: jwt-auth        (the function is examples/<dir>)
//	                      origin-path: /echo       (the origin's CloudFront origin path, prefixed
//	                                                to every URI it receives: with /echo the origin
//	                                                echoes the URI and headers it got as JSON)
//	                      cache-headers: A, B      (the function behavior's cache key headers;
//	                                                CloudFront-* ones named here are added after
//	                                                viewer-request, as CloudFront adds them)
//	                      origin-request-policy: AllViewerAndCloudFrontHeaders-2022-06
//	                                               (the function behavior's origin request policy:
//	                                                a managed one, by name)
//	-- fn.go --           handler source (any *.go sections form the package), unless example is set
//	-- request --         "METHOD /path?query" then "Header: value" lines,
//	                      a blank line, and an optional body
//	                      (X-Edgelab-Viewer-Country: DE sets the viewer's country)
//	-- want --            status: 200
//	                      x-cache: Miss
//	                      header: Name: value       (repeatable; value "" = absent)
//	                      body-contains: text       (repeatable)
//	                      body-lacks: text          (repeatable)
//	                      body-matches: regexp      (repeatable; Go syntax)
//
// Every case runs through the real sandbox against the sample origin.

type txtarFile struct {
	name string
	data string
}

func parseTxtar(data string) []txtarFile {
	var files []txtarFile
	var cur *txtarFile
	for _, line := range strings.SplitAfter(data, "\n") {
		trim := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(trim, "-- ") && strings.HasSuffix(trim, " --") && len(trim) > 6 {
			files = append(files, txtarFile{name: strings.TrimSpace(trim[3 : len(trim)-3])})
			cur = &files[len(files)-1]
			continue
		}
		if cur != nil {
			cur.data += line
		}
	}
	return files
}

type goldenCase struct {
	assocs       []*edgelabv1.Association
	path         string
	repeat       int
	originPath   string
	cacheHeaders []string
	orp          string
	sources      []*edgelabv1.SourceFile
	method       string
	target       string
	headers      map[string]string
	body         string
	want         map[string][]string
}

func loadGolden(t *testing.T, file string) goldenCase {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	gc := goldenCase{path: "default", repeat: 1, headers: map[string]string{}, want: map[string][]string{}}
	for _, f := range parseTxtar(string(data)) {
		switch {
		case f.name == "config":
			for _, line := range nonEmptyLines(f.data) {
				gc.config(t, line)
			}
		case strings.HasSuffix(f.name, ".go"):
			gc.sources = append(gc.sources, &edgelabv1.SourceFile{Name: f.name, Content: []byte(f.data)})
		case f.name == "request":
			head, body, _ := strings.Cut(f.data, "\n\n")
			sc := bufio.NewScanner(strings.NewReader(head))
			sc.Scan()
			gc.method, gc.target, _ = strings.Cut(strings.TrimSpace(sc.Text()), " ")
			for sc.Scan() {
				if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
					gc.headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
				}
			}
			gc.body = strings.TrimSuffix(body, "\n")
		case f.name == "want":
			for _, line := range nonEmptyLines(f.data) {
				k, v, _ := strings.Cut(line, ":")
				gc.want[strings.TrimSpace(k)] = append(gc.want[strings.TrimSpace(k)], strings.TrimSpace(v))
			}
		}
	}
	if gc.method == "" || len(gc.sources) == 0 || len(gc.want) == 0 {
		t.Fatalf("%s: needs request, want and a .go section", file)
	}
	return gc
}

// config applies one "key: value" line of the config section.
func (gc *goldenCase) config(t *testing.T, line string) {
	t.Helper()
	k, v, _ := strings.Cut(line, ":")
	v = strings.TrimSpace(v)
	switch strings.TrimSpace(k) {
	case "event":
		fields := strings.Fields(v)
		ev, ok := eventtype.Parse(fields[0])
		if !ok {
			t.Fatalf("unknown event %q", fields[0])
		}
		gc.assocs = append(gc.assocs, &edgelabv1.Association{EventType: ev, Function: "fn", Version: 1,
			IncludeBody: len(fields) > 1 && fields[1] == "include-body"})
	case "path":
		gc.path = v
	case "repeat":
		gc.repeat, _ = strconv.Atoi(v)
	case "origin-path":
		gc.originPath = v
	case "cache-headers":
		for _, h := range strings.Split(v, ",") {
			gc.cacheHeaders = append(gc.cacheHeaders, strings.TrimSpace(h))
		}
	case "origin-request-policy":
		gc.orp = v
	case "example":
		srcs, err := examples.Sources(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range slices.Sorted(maps.Keys(srcs)) {
			gc.sources = append(gc.sources, &edgelabv1.SourceFile{Name: name, Content: srcs[name]})
		}
	default:
		t.Fatalf("unknown config key %q", k)
	}
}

// distribution is the case's distribution: one origin at originURL plus the
// case's origin path, the function's behavior, and a default behavior
// without functions when the function's behavior is not the default.
func (gc *goldenCase) distribution(originURL string) *edgelabv1.Distribution {
	b := &edgelabv1.Behavior{Path: gc.path, Origin: "o", Functions: gc.assocs, OriginRequestPolicy: gc.orp}
	if len(gc.cacheHeaders) > 0 {
		b.Cache = &edgelabv1.CachePolicy{Set: true, Headers: gc.cacheHeaders}
	}
	d := &edgelabv1.Distribution{Id: "golden", Domains: []string{"*"},
		Origins: []*edgelabv1.Origin{{Id: "o", Url: originURL + gc.originPath}}, Behaviors: []*edgelabv1.Behavior{b}}
	if gc.path != "default" {
		d.Behaviors = append(d.Behaviors, &edgelabv1.Behavior{Path: "default", Origin: "o"})
	}
	return d
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func TestGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sandbox workers")
	}
	files, err := filepath.Glob("testdata/golden/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	o := startOrigin(t, "golden-origin")
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			gc := loadGolden(t, file)
			n := startNode(t, nil, func(c *Config) { c.Profile = shortProfile() })
			fv := &edgelabv1.FunctionVersion{Name: "fn", Version: 1, Sha256: file, Files: gc.sources}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := n.Apply(ctx, &edgelabv1.Snapshot{Revision: 1, Distributions: []*edgelabv1.Distribution{gc.distribution(o.URL())},
				Functions: []*edgelabv1.FunctionVersion{fv}}, nil); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			var r result
			for range gc.repeat {
				r = do(t, n, gc.method, gc.target, gc.headers, gc.body)
			}
			checkGolden(t, r, gc.want)
		})
	}
}

// checkGolden checks r against a case's want section.
func checkGolden(t *testing.T, r result, want map[string][]string) {
	t.Helper()
	check := func(what, got, want string) {
		if got != want {
			t.Errorf("%s = %q, want %q (body %.300q)", what, got, want, r.body)
		}
	}
	for k, vs := range want {
		for _, v := range vs {
			switch k {
			case "status":
				check("status", strconv.Itoa(r.status), v)
			case "x-cache":
				check("X-Cache", r.header.Get("X-Cache"), v+" from edgelab")
			case "header":
				name, val, _ := strings.Cut(v, ":")
				check(name, strings.Join(r.header.Values(strings.TrimSpace(name)), ", "), strings.Trim(strings.TrimSpace(val), `"`))
			case "body-contains":
				if !strings.Contains(r.body, v) {
					t.Errorf("body %.300q lacks %q", r.body, v)
				}
			case "body-lacks":
				if strings.Contains(r.body, v) {
					t.Errorf("body %.300q contains %q", r.body, v)
				}
			case "body-matches":
				if re, err := regexp.Compile(v); err != nil {
					t.Fatalf("body-matches %q: %v", v, err)
				} else if !re.MatchString(r.body) {
					t.Errorf("body %.300q does not match %q", r.body, v)
				}
			default:
				t.Fatalf("unknown want key %q", k)
			}
		}
	}
}
