module github.com/openev/openev

go 1.26.8

require (
	github.com/gorilla/websocket v1.5.3
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/lesismal/nbio v1.6.8 // indirect
	github.com/spf13/cobra v1.10.2 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/text v0.14.0 // indirect
)
