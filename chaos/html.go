package chaos

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// The HTML report is one self-contained file: inline CSS and SVG, no
// scripts, no external resources, so it opens offline and from CI artifacts.
//
//	┌ header: scenario, verdict, seed and the command to reproduce
//	├ timeline (SVG): fault bands │ requests/s per edge + errors │ applied revision per node
//	│                 violations as red marks at the moment they happened
//	└ tables: invariants with details, steps, schedule

const svgWidth = 1100

// lane is one horizontal band of the timeline.
type lane struct {
	Title  string
	Y, H   int
	Shapes []template.HTML
}

type htmlData struct {
	*Report
	Verdict string
	Lanes   []lane
	Height  int
	Width   int
	Axis    []template.HTML
}

// WriteHTML writes the report as a self-contained HTML page.
func (rep *Report) WriteHTML(w io.Writer) error {
	d := htmlData{Report: rep, Verdict: "PASS", Width: svgWidth}
	if !rep.Passed {
		d.Verdict = "FAIL"
	}
	x := rep.xScale()
	y := 30
	d.Lanes = append(d.Lanes, rep.faultLane(x, &y), rep.trafficLane(x, &y), rep.revisionLane(x, &y))
	d.Height = y + 20
	d.Axis = rep.axis(x, d.Height)
	d.Lanes = append(d.Lanes, rep.violationLane(x, d.Height))
	if err := reportTmpl.Execute(w, d); err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	return nil
}

const left = 150

// xScale maps an offset from the load start to an x coordinate.
func (rep *Report) xScale() func(time.Duration) float64 {
	length := max(rep.Timeline.Length, rep.Duration, time.Second)
	return func(d time.Duration) float64 {
		d = min(max(d, 0), length)
		return left + float64(svgWidth-left-10)*float64(d)/float64(length)
	}
}

func shape(format string, args ...any) template.HTML {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = template.HTMLEscapeString(s)
		}
	}
	return template.HTML(fmt.Sprintf(format, args...)) //nolint:gosec // every string argument is escaped above
}

func (rep *Report) faultLane(x func(time.Duration) float64, y *int) lane {
	l := lane{Title: "faults", Y: *y}
	for i, f := range rep.Faults {
		row := *y + 4 + (i%6)*14
		x0, x1 := x(f.From), x(f.To)
		l.Shapes = append(l.Shapes, shape(`<rect class="fault %s" x="%.1f" y="%d" width="%.1f" height="12"><title>%s %s %s..%s</title></rect>`,
			faultClass(f.Kind), x0, row, max(x1-x0, 2), f.Kind, f.Target, f.From.Round(time.Millisecond).String(), f.To.Round(time.Millisecond).String()))
		if x1-x0 > 90 { // a label only where it fits; the tooltip always names the fault
			l.Shapes = append(l.Shapes, shape(`<text x="%.1f" y="%d" class="small">%s %s</text>`, x0+2, row+10, f.Kind, f.Target))
		}
	}
	l.H = 6*14 + 8
	*y += l.H + 10
	return l
}

func faultClass(kind string) string {
	switch {
	case kind == "kill" || kind == "stop" || kind == "pause":
		return "proc"
	case strings.HasPrefix(kind, "origin-"):
		return "origin"
	case strings.HasPrefix(kind, "replication-") || kind == "partition":
		return "repl"
	}
	return "other"
}

func (rep *Report) trafficLane(x func(time.Duration) float64, y *int) lane {
	tl := rep.Timeline
	l := lane{Title: "requests/s per edge (red: errors)", Y: *y}
	const rowH = 40
	for i, e := range tl.Edges {
		base := *y + (i+1)*rowH
		peak := 1
		for _, n := range e.Requests {
			peak = max(peak, n)
		}
		var pts []string
		for b, n := range e.Requests {
			at := time.Duration(b)*tl.Bucket + tl.Bucket/2
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(at), float64(base)-float64(rowH-6)*float64(n)/float64(peak)))
			if e.Errors[b] > 0 {
				h := float64(rowH-6) * float64(e.Errors[b]) / float64(peak)
				l.Shapes = append(l.Shapes, shape(`<rect class="err" x="%.1f" y="%.1f" width="3" height="%.1f"><title>%d errors</title></rect>`, x(at)-1, float64(base)-h, h, e.Errors[b]))
			}
		}
		name := e.Edge
		if name == "" {
			name = "(no edge)"
		}
		perSec := float64(peak) / tl.Bucket.Seconds()
		l.Shapes = append(l.Shapes, shape(`<polyline class="rate" points="%s"/><text x="4" y="%d" class="small">%s (peak %.0f/s)</text>`, strings.Join(pts, " "), base-4, name, perSec))
	}
	l.H = (len(tl.Edges) + 1) * rowH
	*y += l.H + 10
	return l
}

func (rep *Report) revisionLane(x func(time.Duration) float64, y *int) lane {
	l := lane{Title: "applied revision per node", Y: *y}
	var lo, hi int64 = 1 << 62, 0
	for _, n := range rep.Timeline.Nodes {
		for _, p := range n.Points {
			lo, hi = min(lo, p.Revision), max(hi, p.Revision)
		}
	}
	const rowH = 30
	for i, n := range rep.Timeline.Nodes {
		base := *y + (i+1)*rowH
		yOf := func(rev int64) float64 {
			if hi == lo {
				return float64(base - rowH/2)
			}
			return float64(base) - float64(rowH-6)*float64(rev-lo)/float64(hi-lo)
		}
		var pts []string
		for j, p := range n.Points {
			if j > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.At), yOf(n.Points[j-1].Revision)))
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.At), yOf(p.Revision)))
		}
		if len(n.Points) > 0 {
			last := n.Points[len(n.Points)-1]
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(rep.Timeline.Length), yOf(last.Revision)))
		}
		l.Shapes = append(l.Shapes, shape(`<polyline class="rev" points="%s"/><text x="4" y="%d" class="small">%s %s</text>`, strings.Join(pts, " "), base-4, n.Node, n.Region))
	}
	l.H = (len(rep.Timeline.Nodes) + 1) * rowH
	*y += l.H
	return l
}

func (rep *Report) violationLane(x func(time.Duration) float64, height int) lane {
	l := lane{Title: ""}
	for _, inv := range rep.Invariants {
		for i, m := range inv.Marks {
			detail := inv.Name
			if i < len(inv.Details) {
				detail += ": " + inv.Details[i]
			}
			at := x(m.Sub(rep.Started))
			l.Shapes = append(l.Shapes, shape(`<line class="viol" x1="%.1f" x2="%.1f" y1="20" y2="%d"><title>%s</title></line><text class="viol" x="%.1f" y="16">✖</text>`, at, at, height-20, detail, at-4))
		}
	}
	return l
}

func (rep *Report) axis(x func(time.Duration) float64, height int) []template.HTML {
	length := max(rep.Timeline.Length, rep.Duration, time.Second)
	step := 5 * time.Second
	for length/step > 20 {
		step *= 2
	}
	var out []template.HTML
	for t := time.Duration(0); t <= length; t += step {
		out = append(out, shape(`<line class="grid" x1="%.1f" x2="%.1f" y1="20" y2="%d"/><text class="small" x="%.1f" y="%d">%s</text>`, x(t), x(t), height-15, x(t)-8, height-3, t.String()))
	}
	return out
}

var reportTmpl = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chaos {{.Scenario}}: {{.Verdict}}</title>
<style>
body{font:14px system-ui,sans-serif;margin:20px;color:#222}
h1 span.PASS{color:#17803d} h1 span.FAIL{color:#c0262d}
table{border-collapse:collapse;margin:8px 0 20px} td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
code,pre{background:#f4f4f4;padding:2px 4px}
svg{border:1px solid #ddd;background:#fff}
.small{font-size:10px;fill:#333} .lane{font-size:11px;font-weight:bold;fill:#555}
.fault{opacity:.55} .proc{fill:#d9534f} .origin{fill:#f0ad4e} .repl{fill:#5bc0de} .other{fill:#9b59b6}
.rate{fill:none;stroke:#337ab7;stroke-width:1.2} .err{fill:#c0262d} .rev{fill:none;stroke:#2e7d32;stroke-width:1.5}
.grid{stroke:#eee} line.viol{stroke:#c0262d;stroke-width:1.5;stroke-dasharray:4 2} text.viol{fill:#c0262d;font-size:12px}
.fail{color:#c0262d}
</style></head><body>
<h1>chaos {{.Scenario}} <span class="{{.Verdict}}">{{.Verdict}}</span></h1>
<p>{{.Lab}} lab · started {{.Started.UTC.Format "2006-01-02 15:04:05Z"}} · {{.Duration}} · {{.Requests}} requests · {{.Failovers}} failovers{{if .Seed}} · seed <b>{{.Seed}}</b>{{end}}</p>
{{if .Command}}<p>Reproduce: <code>{{.Command}}</code></p>{{end}}
<svg width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" xmlns="http://www.w3.org/2000/svg">
{{range .Axis}}{{.}}{{end}}
{{range .Lanes}}{{if .Title}}<text class="lane" x="4" y="{{.Y}}">{{.Title}}</text>{{end}}{{range .Shapes}}{{.}}{{end}}{{end}}
</svg>
<h2>Invariants</h2>
<table><tr><th>invariant</th><th>result</th><th>checked</th><th>details</th></tr>
{{range .Invariants}}<tr><td>{{.Name}}</td><td{{if not .Passed}} class="fail"{{end}}>{{if .Passed}}pass{{else}}FAIL ({{.Violations}}){{end}}</td><td>{{.Checked}}</td><td>{{range .Details}}{{.}}<br>{{end}}</td></tr>
{{end}}</table>
<h2>Errors</h2>
<table>{{range $k, $v := .Errors}}<tr><td>{{$k}}</td><td>{{$v}}</td></tr>{{else}}<tr><td>none</td></tr>{{end}}</table>
<h2>Steps</h2>
<table><tr><th>at</th><th>step</th><th>result</th></tr>
{{range .Steps}}<tr><td>{{.Offset}}</td><td>{{.Step}}</td><td{{if not .OK}} class="fail"{{end}}>{{if .OK}}ok{{else}}FAILED{{end}} {{.Err}}</td></tr>
{{end}}</table>
{{if .Schedule}}<h2>Schedule (seed {{.Seed}})</h2><pre>{{range .Schedule}}{{.}}
{{end}}</pre>{{end}}
</body></html>
`))
