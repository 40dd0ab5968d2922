package edgenode

import (
	"net/http"
	"time"

	"github.com/edgelab/edgelab/accesslog"
)

// logAccess is the last step of the write stage: one CloudFront standard
// log line per viewer request when Config.AccessLog is set (a REC's tier
// requests are not viewer requests, nor are the gateway's health checks
// of HealthPath). sent is the body bytes sent.
func (t *txn) logAccess(rep *reply, status, sent int) {
	lw := t.n.cfg.AccessLog
	in := &t.in
	if lw == nil || t.hop != nil || in.req.URI == HealthPath {
		return
	}
	h := in.req.Header
	e := accesslog.Entry{
		Time: time.Now(), EdgeLocation: t.n.cfg.PoP, BytesSent: int64(sent), ClientIP: in.req.ClientIP,
		Method: in.req.Method, Host: in.host, HostHeader: in.host, URIStem: in.req.URI, Status: status,
		Referer: h.Get("Referer"), UserAgent: h.Get("User-Agent"), Query: in.req.QueryString, Cookie: h.Get("Cookie"),
		ResultType: rep.xcache, ResponseResultType: rep.xcache, DetailedResultType: rep.xcache, RequestID: t.rid,
		Protocol: "http", ProtocolVersion: "HTTP/1.1", BytesReceived: int64(in.headerBytes) + max(in.contentLength, 0),
		XForwardedFor: h.Get("X-Forwarded-For"), ContentType: rep.header.Get("Content-Type"), ContentLength: -1,
	}
	if in.viewerQuery != "" {
		e.Query = in.viewerQuery // CloudFront logs the URL as the viewer sent it
	}
	if e.ClientIP == "" && in.remoteIP != nil {
		e.ClientIP = in.remoteIP.String()
	}
	if t.d != nil && t.d.domain != "" && t.d.domain != "*" {
		e.Host = t.d.domain
	}
	if !t.start.IsZero() {
		e.TimeTaken = e.Time.Sub(t.start)
		e.TimeToFirstByte = e.TimeTaken
	}
	if status != http.StatusNoContent && status != http.StatusNotModified {
		e.ContentLength = int64(len(rep.body))
	}
	lw.Write(e)
}
