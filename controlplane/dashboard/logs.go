package dashboard

import (
	"time"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// logTail keeps the newest function log lines, oldest first. Owned by
// Hub.Run.
type logTail struct {
	keep  int
	lines []LogLine
	last  time.Time
	seen  map[string]bool // lines at exactly last, already kept
}

// since is where the next Logs call starts.
func (l *logTail) since() time.Time { return l.last }

func (l *logTail) add(lines []*edgelabv1.LogLine) {
	for _, ln := range lines {
		t := ln.GetTime().AsTime()
		key := ln.GetNode() + "\x00" + ln.GetRequestId() + "\x00" + ln.GetMessage()
		if t.Before(l.last) || (t.Equal(l.last) && l.seen[key]) {
			continue
		}
		if t.After(l.last) {
			l.last, l.seen = t, map[string]bool{}
		}
		l.seen[key] = true
		l.lines = append(l.lines, LogLine{Time: t, Function: ln.GetFunction(), Version: ln.GetVersion(),
			Region: ln.GetRegion(), Node: ln.GetNode(), RequestID: ln.GetRequestId(), Kind: ln.GetKind(), Message: ln.GetMessage()})
	}
	if len(l.lines) > l.keep {
		l.lines = append([]LogLine(nil), l.lines[len(l.lines)-l.keep:]...)
	}
}

func (l *logTail) view() []LogLine {
	return append([]LogLine{}, l.lines...)
}
