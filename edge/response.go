package edge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// NewResponse returns a generated response with the status, its standard
// description, and body as text/plain (change Content-Type with SetHeader).
func NewResponse(status int, body string) *Response {
	r := &Response{Status: status, StatusDescription: http.StatusText(status), Header: http.Header{}}
	if body != "" {
		r.Body = []byte(body)
		r.Header.Set("Content-Type", "text/plain; charset=utf-8")
	}
	return r
}

// HTMLResponse returns a generated text/html response.
func HTMLResponse(status int, html string) *Response {
	r := NewResponse(status, "")
	r.Body = []byte(html)
	r.Header.Set("Content-Type", "text/html; charset=utf-8")
	return r
}

// JSONResponse returns a generated application/json response holding v.
func JSONResponse(status int, v any) (*Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("json response: %w", err)
	}
	r := NewResponse(status, "")
	r.Body = b
	r.Header.Set("Content-Type", "application/json")
	return r, nil
}

// Redirect returns a generated redirect (301, 302, 303, 307 or 308 is up to
// the caller) to location, with an empty body.
func Redirect(status int, location string) *Response {
	r := NewResponse(status, "")
	r.Header.Set("Location", location)
	return r
}

// SetHeader sets a response header (replacing existing values) and returns
// r for chaining. A nil Header map is created.
func (r *Response) SetHeader(name, value string) *Response {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set(name, value)
	return r
}

// AddHeader adds a response header value and returns r for chaining.
func (r *Response) AddHeader(name, value string) *Response {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Add(name, value)
	return r
}

// SetBody replaces the body and returns r for chaining. In origin-response
// it replaces the origin's body, and SetBody("") removes it.
func (r *Response) SetBody(body string) *Response {
	r.Body = append([]byte{}, body...)
	return r
}

// SetHeader sets a request header (replacing existing values). A nil Header
// map is created.
func (r *Request) SetHeader(name, value string) {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set(name, value)
}

// Query parses the request's query string leniently (see ParseQuery).
func (r *Request) Query() url.Values { return ParseQuery(r.QueryString) }
