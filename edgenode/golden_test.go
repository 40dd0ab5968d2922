package edgenode

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
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
//	-- fn.go --           handler source (any *.go sections form the package), unless example is set
//	-- request --         "METHOD /path?query" then "Header: value" lines,
//	                      a blank line, and an optional body
//	-- want --            status: 200
//	                      x-cache: Miss
//	                      header: Name: value       (repeatable; value "" = absent)
//	                      body-contains: text       (repeatable)
//	                      origin-hits: n            (not checked when absent)
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
	assocs  []*edgelabv1.Association
	path    string
	repeat  int
	sources []*edgelabv1.SourceFile
	method  string
	target  string
	headers map[string]string
	body    string
	want    map[string][]string
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
			d := &edgelabv1.Distribution{Id: "golden", Domains: []string{"*"}, Origins: []*edgelabv1.Origin{{Id: "o", Url: o.URL()}},
				Behaviors: []*edgelabv1.Behavior{{Path: gc.path, Origin: "o", Functions: gc.assocs}}}
			if gc.path != "default" {
				d.Behaviors = append(d.Behaviors, &edgelabv1.Behavior{Path: "default", Origin: "o"})
			}
			fv := &edgelabv1.FunctionVersion{Name: "fn", Version: 1, Sha256: file, Files: gc.sources}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := n.Apply(ctx, &edgelabv1.Snapshot{Revision: 1, Distributions: []*edgelabv1.Distribution{d},
				Functions: []*edgelabv1.FunctionVersion{fv}}, nil); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			var r result
			for range gc.repeat {
				r = do(t, n, gc.method, gc.target, gc.headers, gc.body)
			}
			check := func(what, got, want string) {
				if got != want {
					t.Errorf("%s = %q, want %q (body %.300q)", what, got, want, r.body)
				}
			}
			for k, vs := range gc.want {
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
					default:
						t.Fatalf("unknown want key %q", k)
					}
				}
			}
			_ = fmt.Sprint
		})
	}
}
