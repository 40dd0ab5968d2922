package distribution

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// DefaultErrorCachingMinTTL is how long CloudFront caches an error when a
// custom error response sets no errorCachingMinTTL.
const DefaultErrorCachingMinTTL = 10 * time.Second

// The statuses a custom error response can replace, and return.
var (
	customErrorCodes    = map[int32]bool{400: true, 403: true, 404: true, 405: true, 414: true, 416: true, 500: true, 501: true, 502: true, 503: true, 504: true}
	customResponseCodes = map[int32]bool{200: true, 400: true, 403: true, 404: true, 405: true, 414: true, 416: true, 500: true, 501: true, 502: true, 503: true, 504: true}
)

// errorResponseFile is one entry of customErrorResponses.
type errorResponseFile struct {
	ErrorCode          int32           `json:"errorCode"`
	ResponsePagePath   string          `json:"responsePagePath,omitempty"`
	ResponseCode       int32           `json:"responseCode,omitempty"`
	ErrorCachingMinTTL json.RawMessage `json:"errorCachingMinTTL,omitempty"`
}

func errorResponsesToProto(in []errorResponseFile) ([]*edgelabv1.CustomErrorResponse, error) {
	var out []*edgelabv1.CustomErrorResponse
	for i, e := range in {
		r := &edgelabv1.CustomErrorResponse{ErrorCode: e.ErrorCode, ResponsePagePath: e.ResponsePagePath, ResponseCode: e.ResponseCode}
		if len(e.ErrorCachingMinTTL) > 0 {
			ttl, err := durationField(e.ErrorCachingMinTTL, fmt.Sprintf("customErrorResponses[%d].errorCachingMinTTL", i), DefaultErrorCachingMinTTL)
			if err != nil {
				return nil, err
			}
			r.ErrorCachingMinTtl = ttl
		}
		out = append(out, r)
	}
	return out, nil
}

func errorResponsesToFile(in []*edgelabv1.CustomErrorResponse) []errorResponseFile {
	var out []errorResponseFile
	for _, r := range in {
		e := errorResponseFile{ErrorCode: r.GetErrorCode(), ResponsePagePath: r.GetResponsePagePath(), ResponseCode: r.GetResponseCode()}
		if r.ErrorCachingMinTtl != nil {
			e.ErrorCachingMinTTL = durationJSON(r.GetErrorCachingMinTtl().AsDuration())
		}
		out = append(out, e)
	}
	return out
}

// ErrorCachingMinTTL is how long the error r covers is cached.
func ErrorCachingMinTTL(r *edgelabv1.CustomErrorResponse) time.Duration {
	if r.ErrorCachingMinTtl == nil {
		return DefaultErrorCachingMinTTL
	}
	return r.GetErrorCachingMinTtl().AsDuration()
}

// validateErrorResponses checks each custom error response: a status
// CloudFront lets it replace (once), a response code only with a page, and
// a page path that a behavior allowing GET serves from an origin.
func validateErrorResponses(p *problems, d *edgelabv1.Distribution, targets map[string]bool) {
	seen := map[int32]bool{}
	for i, r := range d.GetCustomErrorResponses() {
		path := fmt.Sprintf("customErrorResponses[%d]", i)
		switch {
		case !customErrorCodes[r.GetErrorCode()]:
			p.add(path+".errorCode", "%d cannot have a custom error response (allowed: 400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504)", r.GetErrorCode())
		case seen[r.GetErrorCode()]:
			p.add(path+".errorCode", "duplicate custom error response for %d", r.GetErrorCode())
		}
		seen[r.GetErrorCode()] = true
		if c := r.GetResponseCode(); c != 0 && !customResponseCodes[c] {
			p.add(path+".responseCode", "%d is not a status CloudFront can return here (allowed: 200, 400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504)", c)
		}
		if r.GetResponseCode() != 0 && r.GetResponsePagePath() == "" {
			p.add(path+".responsePagePath", "a responseCode needs a responsePagePath")
		}
		if r.GetErrorCachingMinTtl().AsDuration() < 0 {
			p.add(path+".errorCachingMinTTL", "must not be negative")
		}
		if page := r.GetResponsePagePath(); page != "" {
			validateErrorPage(p, path+".responsePagePath", page, d, targets)
		}
	}
}

func validateErrorPage(p *problems, path, page string, d *edgelabv1.Distribution, targets map[string]bool) {
	if !strings.HasPrefix(page, "/") || strings.ContainsAny(page, "?#*") || len(page) > 4096 {
		p.add(path, "%q is not a page path: it starts with \"/\", without query, fragment or wildcard", page)
		return
	}
	b := SelectBehavior(d, page)
	switch {
	case b == nil:
		p.add(path, "no behavior matches %q, so no origin serves the page", page)
	case !targets[b.GetOrigin()]:
		p.add(path, "%q is served by behavior %q whose origin %q does not exist", page, b.GetPath(), b.GetOrigin())
	case len(b.GetAllowedMethods()) > 0 && !containsFold(b.GetAllowedMethods(), "GET"):
		p.add(path, "%q is served by behavior %q, which does not allow GET", page, b.GetPath())
	}
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
