package edgenode

import (
	"context"
	"net/http"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// X-Cache results of a function error.
const (
	xValidationError = string(sandbox.OutcomeValidationError)
	xExecutionError  = string(sandbox.OutcomeExecutionError)
	xLimitExceeded   = string(sandbox.OutcomeLimitExceeded)
)

// invoke runs one trigger, the step every trigger stage shares: the
// transaction's Info (the runner adds the event and function), the result
// rules applied once (by the runner when it validates, else here), the
// metrics and the function's logs. It returns the result, or an error
// reply when the function failed (502 validation, 503 execution / limit).
func (t *txn) invoke(ctx context.Context, tr *trigger, ev edge.EventType, req *edge.Request, resp *edge.Response) (sandbox.Result, *reply) {
	n := t.n
	t.fns = append(t.fns, tr.label)
	inv := sandbox.Invocation{
		Function: tr.fn.name,
		Version:  tr.fn.version,
		Event:    ev,
		Request:  req,
		Response: resp,
		Info:     t.info,
		Egress:   t.d.egress,
		// The model's round trips from this node's region (Node.New).
		FetchLatency: n.fetchLatency,
	}
	res, err := n.runner.Invoke(ctx, inv)
	if err != nil {
		res = sandbox.Result{Outcome: sandbox.OutcomeExecutionError, Err: err}
	}
	if !sandbox.ValidatesResults(n.runner) {
		sandbox.ValidateResult(inv, n.cfg.Profile.For(ev), &res)
	}
	n.invMetrics.observe(tr.fn.name, tr.fn.version, ev, res)
	t.shipLogs(tr, res)
	return res, t.functionError(tr, ev, res)
}

// functionError is the answer to a failed invocation (nil when it did not
// fail), logged.
func (t *txn) functionError(tr *trigger, ev edge.EventType, res sandbox.Result) *reply {
	var status int
	var xcache, what, reason string
	switch res.Outcome {
	case sandbox.OutcomeContinue, sandbox.OutcomeGenerated:
		return nil
	case sandbox.OutcomeValidationError:
		status, xcache, what = http.StatusBadGateway, xValidationError, "function validation error"
		reason = "The Lambda function returned an invalid response to CloudFront."
	case sandbox.OutcomeLimitExceeded:
		status, xcache, what = http.StatusServiceUnavailable, xLimitExceeded, "function throttled"
		reason = "The Lambda function associated with the CloudFront distribution was throttled."
	default:
		status, xcache, what = http.StatusServiceUnavailable, xExecutionError, "function execution error"
		reason = "The Lambda function associated with the CloudFront distribution is invalid or doesn't have the required permissions."
	}
	n := t.n
	n.cfg.Logger.Warn(what, "node", n.cfg.NodeID, "request_id", t.rid, "function", tr.fn.String(), "event", ev, "err", res.Err)
	return errorReply(status, xcache, reason, t.rid)
}

// shipLogs sends the function's log lines (and a validation error) to the
// node's log sink.
func (t *txn) shipLogs(tr *trigger, res sandbox.Result) {
	sink := t.n.cfg.LogSink
	if sink == nil || (len(res.Logs) == 0 && res.Outcome != sandbox.OutcomeValidationError) {
		return
	}
	mk := func(tm time.Time, msg, kind string) *edgelabv1.LogLine {
		return &edgelabv1.LogLine{
			Time: timestamppb.New(tm), Message: msg, Function: tr.fn.name, Version: tr.fn.version,
			Region: t.n.cfg.Region, Node: t.n.cfg.NodeID, RequestId: t.rid, DistributionId: t.d.id, Kind: kind,
		}
	}
	lines := make([]*edgelabv1.LogLine, 0, len(res.Logs)+1)
	for _, l := range res.Logs {
		lines = append(lines, mk(l.Time, l.Message, "function"))
	}
	if res.Outcome == sandbox.OutcomeValidationError {
		msg := "validation error"
		if res.Err != nil {
			msg = res.Err.Error()
		}
		lines = append(lines, mk(time.Now(), msg, "validation"))
	}
	sink(lines)
}
