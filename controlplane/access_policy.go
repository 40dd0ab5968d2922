package controlplane

import (
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/edgelab/edgelab/access"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// accessPolicy is who may call each RPC of the control plane. Every
// mutating call is audited. A method not listed here is refused.
func accessPolicy() access.Policy {
	read := access.Rule{Role: access.Viewer}
	publish := access.Rule{Role: access.Publisher, Mutating: true}
	operate := access.Rule{Role: access.Operator, Mutating: true}
	admin := access.Rule{Role: access.Admin, Mutating: true}
	return access.Policy{
		edgelabv1.ControlPlaneService_CreateFunction_FullMethodName:     publish,
		edgelabv1.ControlPlaneService_UpdateFunction_FullMethodName:     publish,
		edgelabv1.ControlPlaneService_PublishFunction_FullMethodName:    publish,
		edgelabv1.ControlPlaneService_DeleteFunction_FullMethodName:     publish,
		edgelabv1.ControlPlaneService_ApplyDistribution_FullMethodName:  publish,
		edgelabv1.ControlPlaneService_DeleteDistribution_FullMethodName: publish,
		edgelabv1.ControlPlaneService_CreateInvalidation_FullMethodName: publish,
		edgelabv1.ControlPlaneService_Invoke_FullMethodName:             {Role: access.Publisher},
		edgelabv1.ControlPlaneService_GetFunction_FullMethodName:        read,
		edgelabv1.ControlPlaneService_ListFunctions_FullMethodName:      read,
		edgelabv1.ControlPlaneService_GetDistribution_FullMethodName:    read,
		edgelabv1.ControlPlaneService_ListDistributions_FullMethodName:  read,
		edgelabv1.ControlPlaneService_GetStatus_FullMethodName:          read,
		edgelabv1.ControlPlaneService_ListNodes_FullMethodName:          read,
		edgelabv1.ControlPlaneService_GetLogs_FullMethodName:            read,
		edgelabv1.ControlPlaneService_StreamLogs_FullMethodName:         read,

		edgelabv1.ChaosService_Inject_FullMethodName:     operate,
		edgelabv1.ChaosService_Heal_FullMethodName:       operate,
		edgelabv1.ChaosService_ListFaults_FullMethodName: read,

		edgelabv1.ReplicationService_Stream_FullMethodName: {Role: access.Node},

		edgelabv1.AccessService_CreateToken_FullMethodName: admin,
		edgelabv1.AccessService_RevokeToken_FullMethodName: admin,
		edgelabv1.AccessService_ListTokens_FullMethodName:  {Role: access.Admin},
		edgelabv1.AccessService_ListAudit_FullMethodName:   {Role: access.Admin},
		edgelabv1.AccessService_EnrollNode_FullMethodName:  operate,
		edgelabv1.AccessService_RemoveNode_FullMethodName:  operate,

		healthpb.Health_Check_FullMethodName:                             {Role: access.Anyone},
		healthpb.Health_Watch_FullMethodName:                             {Role: access.Anyone},
		"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      read,
		"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": read,
	}
}
