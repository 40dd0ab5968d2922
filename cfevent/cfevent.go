package cfevent

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/edgelab/edgelab/edge"
)

// Config is Records[0].cf.config.
type Config struct {
	DistributionDomainName string `json:"distributionDomainName"`
	DistributionID         string `json:"distributionId"`
	EventType              string `json:"eventType"`
	RequestID              string `json:"requestId"`
}

// Event is one parsed CloudFront event.
type Event struct {
	// Type is the event type from config.eventType; empty when the JSON
	// does not say (the caller then supplies it, e.g. edgectl --type).
	Type   edge.EventType
	Config Config
	// Request is always set.
	Request *edge.Request
	// Response is set when the JSON has cf.response (response events).
	Response *edge.Response
}

// Info returns the edge.Info the event describes.
func (e *Event) Info() edge.Info {
	return edge.Info{
		EventType:          e.Type,
		DistributionID:     e.Config.DistributionID,
		DistributionDomain: e.Config.DistributionDomainName,
		RequestID:          e.Config.RequestID,
	}
}

// Header is one {key, value} entry of a CloudFront header list.
type Header struct {
	Key   string `json:"key,omitempty"`
	Value string `json:"value"`
}

// Headers is CloudFront's header map: lowercase name -> entries.
type Headers map[string][]Header

type wireEvent struct {
	Records []wireRecord `json:"Records"`
}

type wireRecord struct {
	CF wireCF `json:"cf"`
}

type wireCF struct {
	Config   Config        `json:"config"`
	Request  *wireRequest  `json:"request,omitempty"`
	Response *wireResponse `json:"response,omitempty"`
}

type wireBody struct {
	InputTruncated bool   `json:"inputTruncated"`
	Action         string `json:"action"`
	Encoding       string `json:"encoding"`
	Data           string `json:"data"`
}

type wireRequest struct {
	ClientIP    string      `json:"clientIp"`
	Headers     Headers     `json:"headers"`
	Method      string      `json:"method"`
	Querystring string      `json:"querystring"`
	URI         string      `json:"uri"`
	Body        *wireBody   `json:"body,omitempty"`
	Origin      *wireOrigin `json:"origin,omitempty"`
}

// status accepts "200" or 200 and always writes a string.
type status string

func (s *status) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		*s = status(str)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("status must be a string or number: %w", err)
	}
	*s = status(n.String())
	return nil
}

type wireResponse struct {
	Status            status  `json:"status"`
	StatusDescription string  `json:"statusDescription,omitempty"`
	Headers           Headers `json:"headers"`
	Body              *string `json:"body,omitempty"`
	BodyEncoding      string  `json:"bodyEncoding,omitempty"`
}

// Parse decodes CloudFront event JSON. It requires Records[0].cf.request,
// a known eventType when one is given, a response for response events and
// valid body encodings.
func Parse(data []byte) (*Event, error) {
	var w wireEvent
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("parse event: %w", err)
	}
	if len(w.Records) == 0 {
		return nil, errors.New("parse event: no Records")
	}
	cf := w.Records[0].CF
	ev := &Event{Config: cf.Config, Type: edge.EventType(cf.Config.EventType)}
	if ev.Type != "" && !ev.Type.Valid() {
		return nil, fmt.Errorf("parse event: unknown eventType %q (want viewer-request, origin-request, origin-response or viewer-response)", cf.Config.EventType)
	}
	if cf.Request == nil {
		return nil, errors.New("parse event: Records[0].cf.request is missing")
	}
	req, err := requestFromWire(cf.Request)
	if err != nil {
		return nil, fmt.Errorf("parse event: request: %w", err)
	}
	ev.Request = req
	if cf.Response != nil {
		resp, err := responseFromWire(cf.Response)
		if err != nil {
			return nil, fmt.Errorf("parse event: response: %w", err)
		}
		ev.Response = resp
	} else if ev.Type != "" && !ev.Type.IsRequest() {
		return nil, fmt.Errorf("parse event: %s event has no Records[0].cf.response", ev.Type)
	}
	return ev, nil
}

// HeaderFromCF converts CloudFront headers to an http.Header with
// canonical keys (the entry's key, or the map name when the key is empty).
func HeaderFromCF(hs Headers) http.Header {
	h, _ := headerFromCF(hs)
	return h
}

// headerFromCF is HeaderFromCF plus the keys spelt other than their
// canonical form, by canonical name (nil: none), for edge's HeaderKeys.
func headerFromCF(hs Headers) (http.Header, map[string]string) {
	out := http.Header{}
	var keys map[string]string
	names := make([]string, 0, len(hs))
	for n := range hs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, h := range hs[n] {
			k := h.Key
			if k == "" {
				k = n
			}
			ck := http.CanonicalHeaderKey(k)
			out[ck] = append(out[ck], h.Value)
			if h.Key != "" && h.Key != ck {
				if keys == nil {
					keys = map[string]string{}
				}
				keys[ck] = h.Key
			}
		}
	}
	return out, keys
}

// HeaderToCF converts an http.Header to CloudFront headers: lowercase name
// -> [{key: canonical name, value}]. A nil or empty header gives an empty map.
func HeaderToCF(h http.Header) Headers { return headerToCF(h, nil) }

// headerToCF is HeaderToCF writing keys[canonical name] as the key where
// it is set (the spelling the event came with).
func headerToCF(h http.Header, keys map[string]string) Headers {
	out := Headers{}
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		key := ck
		if spelt, ok := keys[ck]; ok && strings.EqualFold(spelt, ck) {
			key = spelt
		}
		lk := strings.ToLower(k)
		for _, v := range vs {
			out[lk] = append(out[lk], Header{Key: key, Value: v})
		}
	}
	return out
}

func requestFromWire(w *wireRequest) (*edge.Request, error) {
	req := &edge.Request{
		Method:      w.Method,
		URI:         w.URI,
		QueryString: w.Querystring,
		ClientIP:    w.ClientIP,
	}
	req.Header, req.HeaderKeys = headerFromCF(w.Headers)
	if w.Body != nil {
		data, err := decodeBody(w.Body.Encoding, w.Body.Data)
		if err != nil {
			return nil, err
		}
		switch w.Body.Action {
		case "", "read-only", "replace":
		default:
			return nil, fmt.Errorf("body action %q is not read-only or replace", w.Body.Action)
		}
		req.Body = &edge.Body{Data: data, Truncated: w.Body.InputTruncated, Replace: w.Body.Action == "replace"}
	}
	if w.Origin != nil {
		o, err := originFromWire(w.Origin)
		if err != nil {
			return nil, err
		}
		req.Origin = o
	}
	return req, nil
}

func decodeBody(encoding, data string) ([]byte, error) {
	switch encoding {
	case "base64":
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, fmt.Errorf("body is not valid base64: %w", err)
		}
		return b, nil
	case "text", "":
		return []byte(data), nil
	}
	return nil, fmt.Errorf("body encoding %q is not base64 or text", encoding)
}

func responseFromWire(w *wireResponse) (*edge.Response, error) {
	code, err := strconv.Atoi(string(w.Status))
	if err != nil {
		return nil, fmt.Errorf("status %q is not a number", string(w.Status))
	}
	resp := &edge.Response{Status: code, StatusDescription: w.StatusDescription}
	resp.Header, resp.HeaderKeys = headerFromCF(w.Headers)
	if w.Body != nil {
		enc := w.BodyEncoding
		if enc == "" {
			enc = "text"
		}
		b, err := decodeBody(enc, *w.Body)
		if err != nil {
			return nil, err
		}
		resp.Body = append([]byte{}, b...) // "" is a body set to empty: no body

	}
	return resp, nil
}

func requestToWire(r *edge.Request) (*wireRequest, error) {
	w := &wireRequest{ClientIP: r.ClientIP, Headers: headerToCF(r.Header, r.HeaderKeys), Method: r.Method, Querystring: r.QueryString, URI: r.URI}
	if r.Body != nil {
		action := "read-only"
		if r.Body.Replace {
			action = "replace"
		}
		w.Body = &wireBody{InputTruncated: r.Body.Truncated, Action: action, Encoding: "base64", Data: base64.StdEncoding.EncodeToString(r.Body.Data)}
	}
	if r.Origin != nil {
		o, err := originToWire(r.Origin)
		if err != nil {
			return nil, err
		}
		w.Origin = o
	}
	return w, nil
}

func responseToWire(r *edge.Response) *wireResponse {
	w := &wireResponse{Status: status(strconv.Itoa(r.Status)), StatusDescription: r.StatusDescription, Headers: headerToCF(r.Header, r.HeaderKeys)}
	// A set but empty body is written as "": it removes the origin's body.
	if r.Body != nil {
		var body string
		if utf8.Valid(r.Body) {
			body, w.BodyEncoding = string(r.Body), "text"
		} else {
			body, w.BodyEncoding = base64.StdEncoding.EncodeToString(r.Body), "base64"
		}
		w.Body = &body
	}
	return w
}

// Marshal renders ev as CloudFront event JSON (the inverse of Parse).
func Marshal(ev *Event) ([]byte, error) {
	if ev == nil || ev.Request == nil {
		return nil, errors.New("marshal event: no request")
	}
	cfg := ev.Config
	if ev.Type != "" {
		cfg.EventType = string(ev.Type)
	}
	req, err := requestToWire(ev.Request)
	if err != nil {
		return nil, fmt.Errorf("marshal event: %w", err)
	}
	cf := wireCF{Config: cfg, Request: req}
	if ev.Response != nil {
		cf.Response = responseToWire(ev.Response)
	}
	b, err := marshalJSON(wireEvent{Records: []wireRecord{{CF: cf}}})
	if err != nil {
		return nil, fmt.Errorf("marshal event: %w", err)
	}
	return b, nil
}

// MarshalResult renders a handler's result the way a Lambda@Edge function
// returns it: for request events, the generated response when resp is
// non-nil, else the (modified) request; for response events, the response.
func MarshalResult(e edge.EventType, req *edge.Request, resp *edge.Response) ([]byte, error) {
	var v any
	switch {
	case e.IsRequest() && resp == nil:
		if req == nil {
			return nil, errors.New("marshal result: no request")
		}
		w, err := requestToWire(req)
		if err != nil {
			return nil, fmt.Errorf("marshal result: %w", err)
		}
		v = w
	case resp != nil:
		v = responseToWire(resp)
	default:
		return nil, fmt.Errorf("marshal result: %s result has no response", e)
	}
	b, err := marshalJSON(v)
	if err != nil {
		return nil, fmt.Errorf("marshal result: %w", err)
	}
	return b, nil
}

// marshalJSON indents like json.MarshalIndent but leaves &, < and > as they
// are: query strings and bodies read as CloudFront writes them.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
