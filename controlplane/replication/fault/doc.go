// Package fault holds the chaos faults that act on a node's replication
// channel, one fault per file (after toxiproxy's toxics). A stored fault
// record (edgelabv1.Fault) is turned into a Fault by Parse; every Fault
// folds its effect into a Channel, and the control plane's stream goroutine
// reads the folded Channel before each turn of its loop:
//
//	etcd faults/ --FaultSet--> Parse --> []Fault --Act--> Channel
//	                                                        |
//	stream:  Cut ............... refuse / close the stream   |
//	         HoldToNode ........ send nothing (updates, pings, fault updates)
//	         IgnoreFromNode .... drop what the node sends
//	         ExtraDelay ........ added to every update's modelled delay
//	         Copies(rnd) ....... 0 (drop), 1 or 2 (duplicate) copies of an update
//
// A new fault is one new file: a type with Act, and a line in kinds.
package fault
