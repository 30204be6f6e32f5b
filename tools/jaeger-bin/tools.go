//go:build tools

// Package tools pins the Jaeger v2 binary (cmd/jaeger) built from this module.
package tools

import _ "github.com/jaegertracing/jaeger/cmd/jaeger"
