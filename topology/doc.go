// Package topology describes the simulated edge network: regions with
// AWS-like names, the PoPs in each, a one-way latency matrix between regions,
// the home region where the control plane lives, and delay profiles that model
// how long a change takes to reach each region.
//
// A topology file is YAML (see deploy/topology/default.yaml):
//
//	home: us-east-1
//	regions: [{name: us-east-1, pops: [IAD]}, {name: eu-west-1, pops: [DUB]}]
//	latency: {us-east-1: {us-east-1: 1, eu-west-1: 35}, eu-west-1: {eu-west-1: 1}}
//	profiles:
//	  default: {scale: 5, jitter: 20ms}
//	  realistic: {scale: 20, jitter: 5s, stages: [{after: 0s, regions: [us-east-1]}, {after: 2m, regions: [eu-west-1]}]}
//	  instant: {scale: 0}
//
// The delay model for an update to a node in region r is
//
//	latency(home -> r) x scale + uniform jitter in [0, jitter) + stage delay of r
//
// The second tier: recs lists the regional edge caches (RECs), each in one
// region; a region's PoPs miss to the REC it names in rec (default: the
// REC located in the region; none: the PoPs go to the origin). A REC may
// name a shield region, whose REC its misses go through first:
//
//	regions: [{name: us-east-1, pops: [IAD]}, {name: sa-east-1, pops: [GRU], rec: us-east-1}]
//	recs: [{name: us-east-1}, {name: eu-central-1, shield: us-east-1}]
//
// A PoP whose REC does not answer tries the next REC nearest its region
// (RECsByPreference). Unknown RECs, shield regions without a REC and
// shield cycles are Parse errors naming the field.
//
// A Topology is immutable after Parse and safe for concurrent use.
package topology
