module github.com/edgelab/edgelab/tools

go 1.26

tool (
	github.com/traefik/yaegi/cmd/yaegi
	google.golang.org/grpc/cmd/protoc-gen-go-grpc
	google.golang.org/protobuf/cmd/protoc-gen-go
)

require (
	github.com/traefik/yaegi v0.16.1 // indirect
	google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
