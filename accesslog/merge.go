package accesslog

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// maxLine bounds one log line Merge reads (URL-encoded referer, agent,
// query and cookie included).
const maxLine = 1 << 20

// source is one log Merge reads: its scanner and its next entry line.
type source struct {
	name string
	sc   *bufio.Scanner
	line string // "" when done
}

// next reads the source's next entry line, skipping header and comment
// lines and blank ones.
func (s *source) next() error {
	s.line = ""
	for s.sc.Scan() {
		if l := s.sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			s.line = l
			return nil
		}
	}
	if err := s.sc.Err(); err != nil {
		return fmt.Errorf("reading access log %s: %w", s.name, err)
	}
	return nil
}

// stamp is the date and time of an entry line: "2026-01-02\t03:04:05"
// sorts as text.
func stamp(line string) string {
	if i := strings.IndexByte(line, '\t'); i >= 0 {
		if j := strings.IndexByte(line[i+1:], '\t'); j >= 0 {
			return line[:i+1+j]
		}
	}
	return line
}

// Merge writes one CloudFront log to w from several (one per edge node,
// each in time order, as Writer writes them): the header lines once, then
// every entry line of every source in time order (by the date and time
// fields; equal times keep the sources' order). The sources' own header
// and comment lines are dropped. It returns how many entries it wrote.
// names label the sources in errors (names[i] for sources[i]).
func Merge(w io.Writer, names []string, sources ...io.Reader) (int, error) {
	srcs := make([]*source, len(sources))
	for i, r := range sources {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), maxLine)
		srcs[i] = &source{name: fmt.Sprint(i), sc: sc}
		if i < len(names) {
			srcs[i].name = names[i]
		}
		if err := srcs[i].next(); err != nil {
			return 0, err
		}
	}
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString(Header()); err != nil {
		return 0, fmt.Errorf("writing access log: %w", err)
	}
	n := 0
	for {
		var first *source
		for _, s := range srcs {
			if s.line != "" && (first == nil || stamp(s.line) < stamp(first.line)) {
				first = s
			}
		}
		if first == nil {
			break
		}
		if _, err := bw.WriteString(first.line + "\n"); err != nil {
			return n, fmt.Errorf("writing access log: %w", err)
		}
		n++
		if err := first.next(); err != nil {
			return n, err
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("writing access log: %w", err)
	}
	return n, nil
}

// Split reads one entry line into its field values, in Fields order; a
// line without exactly len(Fields) tab-separated values is an error.
func Split(line string) ([]string, error) {
	v := strings.Split(line, "\t")
	if len(v) != len(Fields) {
		return nil, fmt.Errorf("access log line has %d fields, want %d", len(v), len(Fields))
	}
	return v, nil
}
