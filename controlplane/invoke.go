package controlplane

import (
	"context"
	"net/http"

	"github.com/edgelab/edgelab/eventtype"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/cfevent"
	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/store"
)

// EventParser turns CloudFront event JSON (Records[0].cf...) into the event
// type, request and response of an invocation. The cfevent package provides
// one; until it is wired, Invoke takes request/response messages only.
type EventParser func(data []byte) (edge.EventType, *edge.Request, *edge.Response, error)

// parseCFEvent is the default EventParser (package cfevent).
func parseCFEvent(data []byte) (edge.EventType, *edge.Request, *edge.Response, error) {
	ev, err := cfevent.Parse(data)
	if err != nil {
		return "", nil, nil, err
	}
	return ev.Type, ev.Request, ev.Response, nil
}

// Invoke runs a published version once in this control plane's sandbox,
// like the edge would, and returns the result, duration, cold/warm and logs.
func (s *Server) Invoke(ctx context.Context, req *edgelabv1.InvokeRequest) (*edgelabv1.InvokeResponse, error) {
	ref := req.GetFunction()
	if err := store.CheckName("function", ref.GetName()); err != nil {
		return nil, toStatus(err)
	}
	if ref.GetVersion() <= 0 {
		return nil, toStatus(invalidf("function %s: version %d: only numbered versions can be invoked", ref.GetName(), ref.GetVersion()))
	}
	et := eventtype.FromProto(req.GetEventType())
	r, resp := sandbox.RequestFromProto(req.GetRequest()), sandbox.ResponseFromProto(req.GetResponse())
	if len(req.GetEventJson()) > 0 {
		parse := s.cfg.EventParser
		if parse == nil {
			parse = parseCFEvent
		}
		pet, pr, presp, err := parse(req.GetEventJson())
		if err != nil {
			return nil, toStatus(invalidf("event JSON: %v", err))
		}
		if req.GetEventType() == edgelabv1.EventType_EVENT_TYPE_UNSPECIFIED {
			et = pet
		}
		r, resp = pr, presp
	}
	if !et.Valid() {
		return nil, toStatus(invalidf("event type is required (viewer-request, origin-request, origin-response or viewer-response)"))
	}
	if r == nil {
		return nil, toStatus(invalidf("a request is required"))
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if !et.IsRequest() && resp == nil {
		return nil, toStatus(invalidf("%s needs a response in the event", et))
	}
	sctx, cancel := s.rpcCtx(ctx)
	v, err := s.store.GetVersion(sctx, ref.GetName(), ref.GetVersion())
	cancel()
	if err != nil {
		return nil, toStatus(err)
	}
	pet := eventtype.ToProto(et)
	if !hasEntryPoint(v.GetEntryPoints(), pet) {
		return nil, toStatus(invalidf("function %q version %d does not export %s", v.GetName(), v.GetVersion(), et.EntryPoint()))
	}
	code := sandbox.Code{Name: v.GetName(), Version: v.GetVersion(), Files: store.FileMap(v.GetFiles()), SHA256: v.GetSha256(),
		MemoryMB: int(v.GetConfig().GetMemoryMb()), Timeout: v.GetConfig().GetTimeout().AsDuration()}
	if err := s.runner.Load(ctx, code); err != nil {
		return nil, toStatus(invalidf("loading %s:%d: %v", v.GetName(), v.GetVersion(), err))
	}
	res, err := s.runner.Invoke(ctx, sandbox.Invocation{Function: v.GetName(), Version: v.GetVersion(), Event: et, Request: r, Response: resp,
		Info: edge.Info{DistributionID: "invoke", Region: "control-plane", Node: s.id}})
	if err != nil {
		return nil, toStatus(err)
	}
	out := &edgelabv1.InvokeResponse{
		Outcome:  string(res.Outcome),
		Request:  sandbox.RequestToProto(res.Request),
		Response: sandbox.ResponseToProto(res.Response),
		Duration: durationpb.New(res.Duration),
		Cold:     res.Cold,
	}
	if js, err := cfevent.MarshalResult(et, res.Request, res.Response); err == nil {
		out.ResultJson = js
	}
	if res.Outcome == sandbox.OutcomeContinue {
		out.Outcome = "ok"
	}
	if res.Err != nil {
		out.Error = res.Err.Error()
	}
	for _, l := range res.Logs {
		out.Logs = append(out.Logs, &edgelabv1.LogLine{Time: timestamppb.New(l.Time), Message: l.Message, Function: v.GetName(),
			Version: v.GetVersion(), Region: "control-plane", Node: s.id, Kind: "function"})
	}
	return out, nil
}
