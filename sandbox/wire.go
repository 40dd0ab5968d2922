package sandbox

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/edgelab/edgelab/eventtype"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/egress"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// The hot IPC frames (WorkerInvoke, WorkerInvokeResult) are encoded and
// decoded here by hand, straight from and to the edge types: the bytes are
// the edgelabv1.WorkerFrame wire format (proto.Unmarshal reads them, and
// these decoders read what proto.Marshal writes), without the generic
// proto machinery, the intermediate messages and the info map, which cost
// about a third of both processes' CPU per invocation. Other frames (load,
// load result) go through proto. Strings are carried as bytes (proto
// would refuse a header value that is not UTF-8; HTTP allows it).

// Field numbers (proto/edgelab/v1/sandbox.proto, types.proto).
const (
	fFrameID           = 1
	fFrameInvoke       = 4
	fFrameInvokeResult = 5

	fInvEvent    = 1
	fInvRequest  = 2
	fInvResponse = 3
	fInvTimeout  = 4
	fInvInfo     = 5

	fReqMethod  = 1
	fReqURI     = 2
	fReqQuery   = 3
	fReqHeaders = 4
	fReqClient  = 5
	fReqBody    = 6
	fReqOrigin  = 7
	fReqKeys    = 8

	fRespStatus  = 1
	fRespDesc    = 2
	fRespHeaders = 3
	fRespBody    = 4
	fRespPresent = 5
	fRespBodySet = 6
	fRespKeys    = 7

	fResRequest  = 1
	fResResponse = 2
	fResError    = 3
	fResKind     = 4
	fResDuration = 5
	fResCold     = 6
	fResLogs     = 7
)

// errBadFrame: a frame that is not valid wire format.
var errBadFrame = errors.New("malformed frame")

// frame is one decoded frame: invoke (host to worker), result (worker to
// host) or, for anything else, the proto message.
type frame struct {
	id     uint64
	invoke *invokeMsg
	result *resultMsg
	pb     *edgelabv1.WorkerFrame
}

// invokeMsg is a WorkerInvoke.
type invokeMsg struct {
	event   edge.EventType
	req     *edge.Request
	resp    *edge.Response
	timeout time.Duration
	info    edge.Info // EventType and Deadline are not carried
	fault   FetchFault
	latency FetchLatency
	// egress is the invocation's egress policy (nil: the zero policy). It
	// stays on the host, which checks the worker's fetches against it
	// (fetchproxy.go); the worker is never told.
	egress *egress.Policy
}

// resultMsg is a WorkerInvokeResult.
type resultMsg struct {
	req      *edge.Request
	resp     *edge.Response
	err      string
	kind     string
	duration time.Duration
	cold     bool
	logs     []LogLine
}

// kind names what a frame carries, for errors.
func (f *frame) kind() string {
	switch {
	case f.invoke != nil:
		return "invoke"
	case f.result != nil:
		return "invoke result"
	case f.pb != nil && f.pb.GetMsg() != nil:
		return fmt.Sprintf("%T", f.pb.GetMsg())
	}
	return "empty frame"
}

// outFrame is a frame to send: it appends its encoding, with the given id.
type outFrame interface {
	appendFrame(b []byte, id uint64) ([]byte, error)
}

// protoFrame sends any WorkerFrame through proto (its Id is overwritten).
type protoFrame struct{ f *edgelabv1.WorkerFrame }

func (p protoFrame) appendFrame(b []byte, id uint64) ([]byte, error) {
	p.f.Id = id
	return proto.MarshalOptions{}.MarshalAppend(b, p.f)
}

// appendReqResp appends req and resp (each when not nil) as nested
// messages with the given field numbers.
func appendReqResp(b []byte, reqField protowire.Number, req *edge.Request, respField protowire.Number, resp *edge.Response) []byte {
	if req != nil {
		at := beginMsg(&b, reqField)
		b = appendRequest(b, req)
		b = endMsg(b, at)
	}
	if resp != nil {
		at := beginMsg(&b, respField)
		b = appendResponse(b, resp)
		b = endMsg(b, at)
	}
	return b
}

func (m *invokeMsg) appendFrame(b []byte, id uint64) ([]byte, error) {
	b = appendUint(b, fFrameID, id)
	at := beginMsg(&b, fFrameInvoke)
	b = appendUint(b, fInvEvent, uint64(eventtype.ToProto(m.event)))
	b = appendReqResp(b, fInvRequest, m.req, fInvResponse, m.resp)
	b = appendDuration(b, fInvTimeout, m.timeout)
	i := m.info
	b = appendInfo(b, infoDistributionID, i.DistributionID)
	b = appendInfo(b, infoDistributionDomain, i.DistributionDomain)
	b = appendInfo(b, infoRequestID, i.RequestID)
	b = appendInfo(b, infoRegion, i.Region)
	b = appendInfo(b, infoPoP, i.PoP)
	b = appendInfo(b, infoNode, i.Node)
	b = appendInfo(b, infoFunctionName, i.FunctionName)
	if i.FunctionVersion != 0 {
		b = appendInfo(b, infoFunctionVersion, strconv.FormatInt(i.FunctionVersion, 10))
	}
	if m.fault.Delay > 0 {
		b = appendInfo(b, infoFaultDelay, m.fault.Delay.String())
	}
	b = appendInfo(b, infoFaultError, m.fault.Err)
	if m.fault.Status != 0 {
		b = appendInfo(b, infoFaultStatus, strconv.Itoa(m.fault.Status))
	}
	b = appendInfo(b, infoFetchLatency, m.latency.encode())
	return endMsg(b, at), nil
}

func (m *resultMsg) appendFrame(b []byte, id uint64) ([]byte, error) {
	b = appendUint(b, fFrameID, id)
	at := beginMsg(&b, fFrameInvokeResult)
	b = appendReqResp(b, fResRequest, m.req, fResResponse, m.resp)
	b = appendString(b, fResError, m.err)
	b = appendString(b, fResKind, m.kind)
	b = appendDuration(b, fResDuration, m.duration)
	if m.cold {
		b = appendUint(b, fResCold, 1)
	}
	for _, l := range m.logs {
		at := beginMsg(&b, fResLogs)
		tat := beginMsg(&b, 1) // time
		b = appendUint(b, 1, uint64(l.Time.Unix()))
		b = appendUint(b, 2, uint64(int64(l.Time.Nanosecond())))
		b = endMsg(b, tat)
		b = appendString(b, 2, l.Message)
		b = appendString(b, 9, "function")
		b = endMsg(b, at)
	}
	return endMsg(b, at), nil
}

func appendRequest(b []byte, r *edge.Request) []byte {
	b = appendString(b, fReqMethod, r.Method)
	b = appendString(b, fReqURI, r.URI)
	b = appendString(b, fReqQuery, r.QueryString)
	b = appendHeader(b, fReqHeaders, r.Header)
	b = appendString(b, fReqClient, r.ClientIP)
	if r.Body != nil {
		at := beginMsg(&b, fReqBody)
		b = appendBytes(b, 1, r.Body.Data)
		b = appendBool(b, 2, r.Body.Truncated)
		b = appendBool(b, 3, r.Body.Replace)
		b = appendBool(b, 4, true)
		b = endMsg(b, at)
	}
	if r.Origin != nil {
		at := beginMsg(&b, fReqOrigin)
		b = appendOrigin(b, r.Origin)
		b = endMsg(b, at)
	}
	return appendKeys(b, fReqKeys, r.HeaderKeys)
}

// appendKeys writes a header_keys map.
func appendKeys(b []byte, num protowire.Number, keys map[string]string) []byte {
	for k, v := range keys {
		at := beginMsg(&b, num)
		b = appendString(b, 1, k)
		b = appendString(b, 2, v)
		b = endMsg(b, at)
	}
	return b
}

// decodeKey adds one header_keys entry to *m.
func (d *decoder) decodeKey(m *map[string]string, raw []byte) error {
	k, v, err := d.decodeMapEntry(raw)
	if err != nil {
		return err
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
	return nil
}

// Field numbers of RequestOrigin.
const (
	fOriginID        = 1
	fOriginHeaders   = 3
	fOriginPresent   = 4
	fOriginS3        = 5
	fOriginDomain    = 6
	fOriginPort      = 7
	fOriginProtocol  = 8
	fOriginPath      = 9
	fOriginSSL       = 10
	fOriginRead      = 11
	fOriginKeepalive = 12
	fOriginRegion    = 13
	fOriginAuth      = 14
)

// appendOrigin writes a RequestOrigin's fields (OriginToProto's mapping).
func appendOrigin(b []byte, o *edge.Origin) []byte {
	b = appendString(b, fOriginID, o.ID)
	b = appendBool(b, fOriginPresent, true)
	switch {
	case o.Custom != nil:
		c := o.Custom
		b = appendHeader(b, fOriginHeaders, c.CustomHeaders)
		b = appendString(b, fOriginDomain, c.DomainName)
		b = appendUint(b, fOriginPort, uint64(int64(int32(c.Port))))
		b = appendString(b, fOriginProtocol, c.Protocol)
		b = appendString(b, fOriginPath, c.Path)
		for _, p := range c.SSLProtocols {
			b = protowire.AppendTag(b, fOriginSSL, protowire.BytesType)
			b = protowire.AppendString(b, p)
		}
		if c.ReadTimeout != 0 {
			b = appendDuration(b, fOriginRead, c.ReadTimeout)
		}
		if c.KeepaliveTimeout != 0 {
			b = appendDuration(b, fOriginKeepalive, c.KeepaliveTimeout)
		}
	case o.S3 != nil:
		s := o.S3
		b = appendHeader(b, fOriginHeaders, s.CustomHeaders)
		b = appendBool(b, fOriginS3, true)
		b = appendString(b, fOriginDomain, s.DomainName)
		b = appendString(b, fOriginPath, s.Path)
		b = appendString(b, fOriginRegion, s.Region)
		b = appendString(b, fOriginAuth, s.AuthMethod)
	}
	return b
}

func appendResponse(b []byte, r *edge.Response) []byte {
	if r.Status != 0 {
		b = appendUint(b, fRespStatus, uint64(int64(int32(r.Status))))
	}
	b = appendString(b, fRespDesc, r.StatusDescription)
	b = appendHeader(b, fRespHeaders, r.Header)
	b = appendBytes(b, fRespBody, r.Body)
	b = appendBool(b, fRespBodySet, r.Body != nil)
	b = appendKeys(b, fRespKeys, r.HeaderKeys)
	return appendBool(b, fRespPresent, true)
}

// appendHeader writes one Header message per name (map order: the decoder
// builds a map, so the order carries nothing).
func appendHeader(b []byte, num protowire.Number, h http.Header) []byte {
	for k, vs := range h {
		at := beginMsg(&b, num)
		b = appendString(b, 1, k)
		for _, v := range vs {
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			b = protowire.AppendString(b, v)
		}
		b = endMsg(b, at)
	}
	return b
}

func appendInfo(b []byte, k, v string) []byte {
	if v == "" {
		return b
	}
	at := beginMsg(&b, fInvInfo)
	b = appendString(b, 1, k)
	b = appendString(b, 2, v)
	return endMsg(b, at)
}

func appendDuration(b []byte, num protowire.Number, d time.Duration) []byte {
	at := beginMsg(&b, num)
	secs, nanos := int64(d/time.Second), int64(d%time.Second)
	if secs != 0 {
		b = appendUint(b, 1, uint64(secs))
	}
	if nanos != 0 {
		b = appendUint(b, 2, uint64(nanos))
	}
	return endMsg(b, at)
}

func appendUint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendBool(b []byte, num protowire.Number, v bool) []byte {
	if !v {
		return b
	}
	return appendUint(b, num, 1)
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// beginMsg starts a length-delimited field whose length is not known yet:
// it writes the tag and a one-byte length placeholder, and returns the
// placeholder's position for endMsg.
func beginMsg(b *[]byte, num protowire.Number) int {
	*b = protowire.AppendTag(*b, num, protowire.BytesType)
	*b = append(*b, 0)
	return len(*b) - 1
}

// endMsg fills in the length of the field begun at at, moving the content
// when the length needs more than one byte.
func endMsg(b []byte, at int) []byte {
	n := len(b) - at - 1
	if n < 0x80 {
		b[at] = byte(n)
		return b
	}
	k := protowire.SizeVarint(uint64(n))
	for range k - 1 {
		b = append(b, 0)
	}
	copy(b[at+k:], b[at+1:at+1+n])
	protowire.AppendVarint(b[:at], uint64(n))
	return b
}

// decodeFrame decodes one frame. b is not retained. When the oneof field
// appears more than once, the last one wins (proto would merge repeated
// messages; the peers never send that).
func decodeFrame(b []byte) (*frame, error) {
	f := &frame{}
	d := &decoder{}
	if len(b) <= maxSharedFrame {
		d.s, d.capBase = string(b), cap(b)
	}
	var last protowire.Number
	var body []byte
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, raw []byte) error {
		switch {
		case num == fFrameID && typ == protowire.VarintType:
			f.id = v
		case num >= 2 && num <= 5 && typ == protowire.BytesType:
			last, body = num, raw
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch last {
	case fFrameInvoke:
		f.invoke, err = d.decodeInvoke(body)
	case fFrameInvokeResult:
		f.result, err = d.decodeResult(body)
	default:
		f.pb = &edgelabv1.WorkerFrame{}
		if err = proto.Unmarshal(b, f.pb); err != nil {
			err = fmt.Errorf("%w: %w", errBadFrame, err)
		}
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// maxSharedFrame bounds the frames whose strings share one allocation (a
// string kept by a handler keeps the whole frame alive).
const maxSharedFrame = 64 << 10

// decoder turns a frame's bytes into strings: substrings of one copy of
// the whole frame when it is small (one allocation instead of one per
// field), else a copy per field. A field's offset in the frame is the
// difference of capacities: every raw slice is a plain reslice of the
// frame's buffer (eachField keeps it so).
type decoder struct {
	s       string
	capBase int
	// vals backs the header value slices of the frame (one allocation
	// instead of one per header name; see decodeHeaderInto).
	vals []string
}

// headerValsCap is the first size of decoder.vals: the values of a
// typical request's headers.
const headerValsCap = 16

func (d *decoder) str(raw []byte) string {
	if d.s == "" {
		return string(raw)
	}
	off := d.capBase - cap(raw)
	if off < 0 || off+len(raw) > len(d.s) {
		return string(raw)
	}
	return d.s[off : off+len(raw)]
}

func (d *decoder) decodeInvoke(b []byte) (*invokeMsg, error) {
	m := &invokeMsg{}
	var delay, ferr, status string
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, raw []byte) error {
		var err error
		switch {
		case num == fInvEvent && typ == protowire.VarintType:
			m.event = eventtype.FromProto(edgelabv1.EventType(int32(v)))
		case num == fInvRequest && typ == protowire.BytesType:
			m.req, err = d.decodeRequest(raw)
		case num == fInvResponse && typ == protowire.BytesType:
			m.resp, err = d.decodeResponse(raw)
		case num == fInvTimeout && typ == protowire.BytesType:
			m.timeout, err = decodeDuration(raw)
		case num == fInvInfo && typ == protowire.BytesType:
			var k, val string
			if k, val, err = d.decodeMapEntry(raw); err != nil {
				return err
			}
			switch k {
			case infoDistributionID:
				m.info.DistributionID = val
			case infoDistributionDomain:
				m.info.DistributionDomain = val
			case infoRequestID:
				m.info.RequestID = val
			case infoRegion:
				m.info.Region = val
			case infoPoP:
				m.info.PoP = val
			case infoNode:
				m.info.Node = val
			case infoFunctionName:
				m.info.FunctionName = val
			case infoFunctionVersion:
				m.info.FunctionVersion = parseInt64(val)
			case infoFaultDelay:
				delay = val
			case infoFaultError:
				ferr = val
			case infoFaultStatus:
				status = val
			case infoFetchLatency:
				m.latency = parseFetchLatency(val)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	m.fault = parseFetchFault(delay, ferr, status)
	return m, nil
}

func (d *decoder) decodeResult(b []byte) (*resultMsg, error) {
	m := &resultMsg{}
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, raw []byte) error {
		var err error
		switch {
		case num == fResRequest && typ == protowire.BytesType:
			m.req, err = d.decodeRequest(raw)
		case num == fResResponse && typ == protowire.BytesType:
			m.resp, err = d.decodeResponse(raw)
		case num == fResError && typ == protowire.BytesType:
			m.err = d.str(raw)
		case num == fResKind && typ == protowire.BytesType:
			m.kind = d.str(raw)
		case num == fResDuration && typ == protowire.BytesType:
			m.duration, err = decodeDuration(raw)
		case num == fResCold && typ == protowire.VarintType:
			m.cold = v != 0
		case num == fResLogs && typ == protowire.BytesType:
			var l LogLine
			l, err = d.decodeLogLine(raw)
			m.logs = append(m.logs, l)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// decodeRequest mirrors RequestFromProto: Header is never nil; Body and
// Origin by the same presence rules.
func (d *decoder) decodeRequest(b []byte) (*edge.Request, error) {
	// Size the header map and the values' backing array for the headers
	// the request has (most names have one value), instead of growing
	// both or over-allocating for a short request.
	n := countField(b, fReqHeaders)
	d.growVals(n)
	r := &edge.Request{Header: make(http.Header, n)}
	var body *edge.Body
	var bodyPresent bool
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, raw []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fReqMethod:
			r.Method = d.str(raw)
		case fReqURI:
			r.URI = d.str(raw)
		case fReqQuery:
			r.QueryString = d.str(raw)
		case fReqHeaders:
			return d.decodeHeaderInto(r.Header, raw)
		case fReqClient:
			r.ClientIP = d.str(raw)
		case fReqBody:
			body, bodyPresent = &edge.Body{}, false
			return eachField(raw, func(num protowire.Number, typ protowire.Type, v uint64, raw []byte) error {
				switch {
				case num == 1 && typ == protowire.BytesType:
					body.Data = append([]byte{}, raw...)
				case num == 2 && typ == protowire.VarintType:
					body.Truncated = v != 0
				case num == 3 && typ == protowire.VarintType:
					body.Replace = v != 0
				case num == 4 && typ == protowire.VarintType:
					bodyPresent = v != 0
				}
				return nil
			})
		case fReqOrigin:
			o, err := d.decodeOrigin(raw)
			r.Origin = o
			return err
		case fReqKeys:
			return d.decodeKey(&r.HeaderKeys, raw)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if body != nil && (bodyPresent || len(body.Data) > 0 || body.Truncated || body.Replace) {
		r.Body = body
	}
	return r, nil
}

// decodeOrigin mirrors OriginFromProto.
func (d *decoder) decodeOrigin(b []byte) (*edge.Origin, error) {
	var (
		p       edgelabv1.RequestOrigin // scalars only; headers go to ch
		ch      http.Header
		read    time.Duration
		keep    time.Duration
		setTime bool
	)
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, raw []byte) error {
		var err error
		switch {
		case typ == protowire.VarintType:
			switch num {
			case fOriginPresent:
				p.Present = v != 0
			case fOriginS3:
				p.S3 = v != 0
			case fOriginPort:
				p.Port = int32(v)
			}
		case typ != protowire.BytesType:
		case num == fOriginHeaders:
			if ch == nil {
				ch = http.Header{}
			}
			err = d.decodeHeaderInto(ch, raw)
		case num == fOriginRead:
			read, err = decodeDuration(raw)
			setTime = true
		case num == fOriginKeepalive:
			keep, err = decodeDuration(raw)
			setTime = true
		case num == fOriginSSL:
			p.SslProtocols = append(p.SslProtocols, d.str(raw))
		default:
			d.originString(&p, num, raw)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !p.Present && proto.Size(&p) == 0 && ch == nil && !setTime {
		return nil, nil
	}
	p.Present = true
	o := OriginFromProto(&p)
	switch {
	case o.S3 != nil:
		o.S3.CustomHeaders = ch
	case o.Custom != nil || ch != nil || setTime:
		if o.Custom == nil {
			o.Custom = &edge.CustomOrigin{}
		}
		o.Custom.CustomHeaders, o.Custom.ReadTimeout, o.Custom.KeepaliveTimeout = ch, read, keep
	}
	return o, nil
}

// originString sets one string field of a RequestOrigin.
func (d *decoder) originString(p *edgelabv1.RequestOrigin, num protowire.Number, raw []byte) {
	switch num {
	case fOriginID:
		p.Id = d.str(raw)
	case fOriginDomain:
		p.DomainName = d.str(raw)
	case fOriginProtocol:
		p.Protocol = d.str(raw)
	case fOriginPath:
		p.Path = d.str(raw)
	case fOriginRegion:
		p.Region = d.str(raw)
	case fOriginAuth:
		p.AuthMethod = d.str(raw)
	}
}

// decodeResponse mirrors ResponseFromProto: nil for a response without the
// present flag and without any field set; Header is never nil otherwise.
func (d *decoder) decodeResponse(b []byte) (*edge.Response, error) {
	n := countField(b, fRespHeaders)
	d.growVals(n)
	r := &edge.Response{Header: make(http.Header, n)}
	var present, anyHeader, bodySet bool
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, raw []byte) error {
		switch {
		case num == fRespStatus && typ == protowire.VarintType:
			r.Status = int(int32(v))
		case num == fRespDesc && typ == protowire.BytesType:
			r.StatusDescription = d.str(raw)
		case num == fRespHeaders && typ == protowire.BytesType:
			anyHeader = true
			return d.decodeHeaderInto(r.Header, raw)
		case num == fRespBody && typ == protowire.BytesType:
			r.Body = append([]byte{}, raw...)
		case num == fRespPresent && typ == protowire.VarintType:
			present = v != 0
		case num == fRespBodySet && typ == protowire.VarintType:
			bodySet = v != 0
		case num == fRespKeys && typ == protowire.BytesType:
			anyHeader = true
			return d.decodeKey(&r.HeaderKeys, raw)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !present && r.Status == 0 && !anyHeader && len(r.Body) == 0 && r.StatusDescription == "" {
		return nil, nil
	}
	if bodySet && r.Body == nil {
		r.Body = []byte{}
	}
	return r, nil
}

// growVals makes room in d.vals for n more header values. Windows
// handed out earlier stay valid: they are capped, so they never share
// the room appended after them, and a new backing array leaves them on
// the old one.
func (d *decoder) growVals(n int) {
	if n > 0 {
		d.vals = slices.Grow(d.vals, n)
	}
}

// decodeHeaderInto adds one Header message to h (repeated names merge in
// order, as HeaderFromProto does).
func (d *decoder) decodeHeaderInto(h http.Header, b []byte) error {
	var name string
	start := len(d.vals)
	err := eachField(b, func(num protowire.Number, typ protowire.Type, _ uint64, raw []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			name = d.str(raw)
		case 2:
			if d.vals == nil {
				d.vals = make([]string, 0, headerValsCap)
			}
			d.vals = append(d.vals, d.str(raw))
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The name's values are a window of d.vals whose capacity ends with
	// them: appending to them copies, never overwriting another name's.
	var values []string
	if end := len(d.vals); end > start {
		values = d.vals[start:end:end]
	}
	if old, ok := h[name]; ok {
		h[name] = append(old, values...)
	} else {
		h[name] = values
	}
	return nil
}

func (d *decoder) decodeMapEntry(b []byte) (k, v string, err error) {
	err = eachField(b, func(num protowire.Number, typ protowire.Type, _ uint64, raw []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			k = d.str(raw)
		case 2:
			v = d.str(raw)
		}
		return nil
	})
	return k, v, err
}

// decodeDuration decodes a google.protobuf.Duration, saturating at the
// time.Duration range (as durationpb's AsDuration does).
func decodeDuration(b []byte) (time.Duration, error) {
	var secs, nanos int64
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) error {
		if typ != protowire.VarintType {
			return nil
		}
		switch num {
		case 1:
			secs = int64(v)
		case 2:
			nanos = int64(int32(v))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	const maxSecs = math.MaxInt64 / int64(time.Second)
	switch {
	case secs > maxSecs:
		return time.Duration(math.MaxInt64), nil
	case secs < -maxSecs:
		return time.Duration(math.MinInt64), nil
	}
	d := time.Duration(secs) * time.Second
	sum := d + time.Duration(nanos)
	if nanos > 0 && sum < d {
		return time.Duration(math.MaxInt64), nil
	}
	if nanos < 0 && sum > d {
		return time.Duration(math.MinInt64), nil
	}
	return sum, nil
}

func (d *decoder) decodeLogLine(b []byte) (LogLine, error) {
	var l LogLine
	err := eachField(b, func(num protowire.Number, typ protowire.Type, _ uint64, raw []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			var secs, nanos int64
			if err := eachField(raw, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) error {
				if typ == protowire.VarintType {
					switch num {
					case 1:
						secs = int64(v)
					case 2:
						nanos = int64(int32(v))
					}
				}
				return nil
			}); err != nil {
				return err
			}
			l.Time = time.Unix(secs, nanos).UTC()
		case 2:
			l.Message = d.str(raw)
		}
		return nil
	})
	return l, err
}

// eachField calls fn for every field of the message in b: v is a varint
// field's value, raw a length-delimited field's content (valid during the
// call only). Fixed-width and group fields are skipped; malformed input is
// an error wrapping errBadFrame.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v uint64, raw []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %w", errBadFrame, protowire.ParseError(n))
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return fmt.Errorf("%w: %w", errBadFrame, protowire.ParseError(n))
			}
			b = b[n:]
			if err := fn(num, typ, v, nil); err != nil {
				return err
			}
		case protowire.BytesType:
			m, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return fmt.Errorf("%w: %w", errBadFrame, protowire.ParseError(n))
			}
			if m > uint64(len(b)-n) {
				return fmt.Errorf("%w: %w", errBadFrame, protowire.ParseError(-1))
			}
			raw := b[n : n+int(m)] // a plain reslice: decoder.str relies on it
			b = b[n+int(m):]
			if err := fn(num, typ, 0, raw); err != nil {
				return err
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("%w: %w", errBadFrame, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	return nil
}

// maxSizeHint caps countField: a size hint, not a bound. A hostile frame
// of many tiny entries under one name must not size a map for millions
// of names; past the hint, maps and slices grow as they fill.
const maxSizeHint = 64

// countField counts the length-delimited fields numbered num at the top
// level of b, up to maxSizeHint, for sizing; a malformed b counts what
// precedes the error (decoding it reports the error).
func countField(b []byte, num protowire.Number) int {
	n := 0
	_ = eachField(b, func(k protowire.Number, typ protowire.Type, _ uint64, _ []byte) error {
		if k == num && typ == protowire.BytesType {
			n++
		}
		if n >= maxSizeHint {
			return errStopCount
		}
		return nil
	})
	return n
}

// errStopCount ends countField's walk early.
var errStopCount = errors.New("enough")
