#!/bin/sh
# pki.sh [DIR [FILE]]: the lab CA and a certificate for every pod of these
# manifests, as the Secrets they mount (edgelab-pki-<workload>,
# edgelab-etcd-pki-<workload>), written to FILE (default build/k8s-pki.yaml).
# The CAs and credentials stay in DIR (default build/k8s-pki): a second run
# reuses the CAs and renews every certificate (apply FILE again; the pods
# read the new files on their next handshake), and edgectl on your machine
# uses DIR/ca.crt and DIR/admin.token. Run from the repository root:
#
#   deploy/k8s/pki.sh && kubectl apply -k deploy/k8s && kubectl apply -f build/k8s-pki.yaml
#
# Every name here is a pod's (<statefulset>-<ordinal>) with the host the
# others dial; deploy/k8s/manifests_test.go checks that they match the
# manifests. Add a line's entry when you add a replica.
set -eu
dir=${1:-build/k8s-pki}
out=${2:-build/k8s-pki.yaml}
mkdir -p "$(dirname "$out")"
exec go run ./cmd/edgelab certs --dir "$dir" --k8s-secrets "$out" \
  --controlplanes=controlplane-0@controlplane-0.controlplane,controlplane-1@controlplane-1.controlplane \
  --nodes=edge-us-east-1-0@us-east-1@edge-us-east-1-0.edgenodes,edge-eu-west-1-0@eu-west-1@edge-eu-west-1-0.edgenodes,edge-ap-northeast-1-0@ap-northeast-1@edge-ap-northeast-1-0.edgenodes,edge-sa-east-1-0@sa-east-1@edge-sa-east-1-0.edgenodes,edge-ap-southeast-2-0@ap-southeast-2@edge-ap-southeast-2-0.edgenodes,rec-us-east-1-0@us-east-1@rec-us-east-1-0.edgenodes \
  --etcd-members=etcd-0@etcd-0.etcd,etcd-1@etcd-1.etcd,etcd-2@etcd-2.etcd
