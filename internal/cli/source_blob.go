package cli

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"calldiag/internal/source"
)

// diagnosticPrefix starts the name of every container a Diagnostic Setting
// archives logs to (insights-logs-<category>).
const diagnosticPrefix = "insights-logs-"

// parseBlobSource reads blob://ACCOUNT[/CONTAINER][?prefix=…&poll=1s&list=30s&settle=10s].
// Without a container it follows every container whose name starts with
// prefix (default insights-logs-); with one, the blobs of that container
// whose names start with prefix (default all). The credentials come from
// the environment when the follower is built.
func parseBlobSource(raw, rest string) (sourceSpec, error) {
	spec := sourceSpec{raw: raw, kind: "blob"}
	where, query, _ := strings.Cut(rest, "?")
	account, ctr, _ := strings.Cut(strings.TrimSuffix(where, "/"), "/")
	if !validAccount(account) {
		return spec, &UsageError{Msg: fmt.Sprintf("source %q: want blob://ACCOUNT[/CONTAINER] with the storage account's name (3 to 24 lower-case letters and digits)", raw)}
	}
	if ctr != "" && !validContainer(ctr) {
		return spec, &UsageError{Msg: fmt.Sprintf("source %q: %q is no container name (3 to 63 lower-case letters, digits and hyphens); to follow a folder of a container, use ?prefix=", raw, ctr)}
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return spec, &UsageError{Msg: fmt.Sprintf("source %q: %v", raw, err)}
	}
	prefix, prefixGiven := "", false
	if ctr == "" {
		prefix = diagnosticPrefix
	}
	for key, vals := range q {
		v := vals[len(vals)-1]
		switch key {
		case "prefix":
			prefix, prefixGiven = v, true
		case "poll", "list", "settle":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return spec, &UsageError{Msg: fmt.Sprintf("source %q: %s=%s is not a positive duration", raw, key, v)}
			}
			switch key {
			case "poll":
				spec.poll = d
			case "list":
				spec.list = d
			default:
				spec.settle = d
			}
		default:
			return spec, &UsageError{Msg: fmt.Sprintf("source %q: unknown parameter %s (prefix, poll, list, settle)", raw, key)}
		}
	}
	// The name keys the checkpoints: it says what is read, not how often.
	spec.raw = "blob://" + account
	if ctr != "" {
		spec.raw += "/" + ctr
	}
	if prefix != "" || (ctr == "" && prefixGiven) {
		spec.raw += "?prefix=" + url.QueryEscape(prefix)
	}
	spec.build = func(d sourceDeps) (follower, error) {
		cps, ok := d.store.(source.Checkpoints)
		if !ok {
			return nil, &UsageError{Msg: fmt.Sprintf("source %s: this store does not keep source checkpoints", spec.raw)}
		}
		getenv := func(string) string { return "" }
		if d.env != nil {
			getenv = d.env
		}
		b := &source.Blob{Account: account, Container: ctr, Prefix: prefix,
			ConnectionString: getenv(source.EnvConnectionString), AccountKey: getenv(source.EnvStorageKey),
			Name: spec.raw, Poll: spec.poll, List: spec.list, Settle: spec.settle,
			Ingest: d.ingest, Checkpoints: cps, Status: d.status, Logger: d.log}
		// Missing or malformed credentials are a mistake to fix before
		// starting; what the account says about them shows in the status.
		if err := b.Check(); err != nil {
			return nil, &UsageError{Msg: fmt.Sprintf("source %s: %v", spec.raw, err)}
		}
		return b, nil
	}
	return spec, nil
}

// validAccount tells whether s can name a storage account.
func validAccount(s string) bool {
	if len(s) < 3 || len(s) > 24 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// validContainer tells whether s can name a container ($logs and $root
// included).
func validContainer(s string) bool {
	if s == "$logs" || s == "$root" {
		return true
	}
	if len(s) < 3 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}
