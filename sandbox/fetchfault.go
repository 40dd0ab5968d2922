package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FetchFault is a fault injected into a handler's outbound fetches
// (edge.Fetch) for one invocation: chaos for the functions' dependencies.
// Delay applies first (bounded by the invocation deadline), then Err or
// Status; a zero FetchFault injects nothing.
type FetchFault struct {
	// Delay holds every fetch this long before it proceeds.
	Delay time.Duration
	// Err fails every fetch with this message.
	Err string
	// Status answers every fetch with this status (empty body) without
	// sending it.
	Status int
}

func (f FetchFault) zero() bool { return f == FetchFault{} }

// Info keys carrying a FetchFault to the worker.
const (
	infoFaultDelay  = "fault.fetch.delay"
	infoFaultError  = "fault.fetch.error"
	infoFaultStatus = "fault.fetch.status"
)

func (f FetchFault) toInfo(m map[string]string) {
	if f.Delay > 0 {
		m[infoFaultDelay] = f.Delay.String()
	}
	if f.Err != "" {
		m[infoFaultError] = f.Err
	}
	if f.Status != 0 {
		m[infoFaultStatus] = strconv.Itoa(f.Status)
	}
}

func fetchFaultFromInfo(m map[string]string) FetchFault {
	return parseFetchFault(m[infoFaultDelay], m[infoFaultError], m[infoFaultStatus])
}

// parseFetchFault builds a fault from its wire values; bad values are ignored.
// Absent values (the common case: no fault) are not parsed, which would
// allocate a parse error per invocation.
func parseFetchFault(delay, errText, status string) FetchFault {
	var f FetchFault
	if delay != "" {
		if d, err := time.ParseDuration(delay); err == nil && d > 0 {
			f.Delay = d
		}
	}
	f.Err = errText
	if status != "" {
		if s, err := strconv.Atoi(status); err == nil && s >= 100 && s <= 999 {
			f.Status = s
		}
	}
	return f
}

// errFetchFault marks an injected fetch failure.
var errFetchFault = errors.New("injected fetch fault")

// wrap returns fetch with f applied first (fetch itself when f is zero).
func (f FetchFault) wrap(fetch FetchFunc) FetchFunc {
	if f.zero() {
		return fetch
	}
	return func(ctx context.Context, req *http.Request) (*http.Response, error) {
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("%w: delayed %s: %w", errFetchFault, f.Delay, ctx.Err())
			}
		}
		if f.Err != "" {
			return nil, fmt.Errorf("%w: %s", errFetchFault, f.Err)
		}
		if f.Status != 0 {
			return &http.Response{
				StatusCode: f.Status, Status: strconv.Itoa(f.Status) + " " + http.StatusText(f.Status),
				Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: req,
			}, nil
		}
		if fetch == nil {
			return nil, errNoFetch
		}
		return fetch(ctx, req)
	}
}
