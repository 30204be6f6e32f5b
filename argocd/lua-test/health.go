// Package healthcheck runs Argo CD resource health scripts the way Argo CD does: in gopher-lua, with
// only the package, base and table libraries open (no string, math, io or os), the object as the global
// `obj`, and the returned table read as {status, message}. Mirrors argo-cd util/lua (runLua,
// decodeValue, ExecuteHealthLua) without depending on Argo CD.
package healthcheck

import (
	"context"
	"fmt"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// Status is what a health script returns; the same fields as Argo CD's HealthStatus.
type Status struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

var validStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

// Evaluate runs script with obj as the global `obj` and returns the health it reports.
func Evaluate(script string, obj map[string]any) (Status, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return Status{}, fmt.Errorf("opening the %s library: %w", lib.name, err)
		}
	}
	// Argo CD gives a script one second.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", decodeValue(l, obj))
	if err := l.DoString(script); err != nil {
		return Status{}, err
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return Status{}, fmt.Errorf("expect table output from Lua script, not %s", l.Get(-1).Type())
	}
	status, err := stringField(ret, "status")
	if err != nil {
		return Status{}, err
	}
	message, err := stringField(ret, "message")
	if err != nil {
		return Status{}, err
	}
	if !validStatuses[status] {
		return Status{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
	}
	return Status{Status: status, Message: message}, nil
}

func stringField(t *lua.LTable, name string) (string, error) {
	switch v := t.RawGetString(name).(type) {
	case lua.LString:
		return string(v), nil
	case *lua.LNilType:
		return "", nil
	default:
		return "", fmt.Errorf("%s is a %s, not a string", name, v.Type())
	}
}

// decodeValue converts a decoded JSON/YAML value to Lua as Argo CD does for the live object.
func decodeValue(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		arr := l.CreateTable(len(v), 0)
		for _, item := range v {
			arr.Append(decodeValue(l, item))
		}
		return arr
	case map[string]any:
		tbl := l.CreateTable(0, len(v))
		for key, item := range v {
			tbl.RawSetH(lua.LString(key), decodeValue(l, item))
		}
		return tbl
	default:
		return lua.LNil
	}
}

// LoadObject reads one Kubernetes object from a YAML (or JSON) file, as Argo CD's tests do.
func LoadObject(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseObject(data)
}

// ParseObject parses one Kubernetes object from YAML or JSON.
func ParseObject(data []byte) (map[string]any, error) {
	obj := map[string]any{}
	if err := yaml.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	return obj, nil
}
