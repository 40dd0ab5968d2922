// Package cfevent maps CloudFront's Lambda@Edge event JSON
// (Records[0].cf.config/request/response) to the edge SDK types and back,
// so `edgectl invoke` accepts the AWS sample events unchanged and prints a
// result in CloudFront's own shape.
//
//	event JSON ──Parse──▶ Event{Type, Config, *edge.Request, *edge.Response}
//	                             │ handler runs
//	result JSON ◀──MarshalResult── (*edge.Request | *edge.Response)
//
// Headers travel as lowercase name -> [{key, value}] in JSON and as
// canonical keys in edge.Header; status is a string in JSON; bodies carry
// encoding "text" or "base64". The full mapping is in docs/event-mapping.md.
package cfevent
