package cli

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"calldiag/internal/source"
)

// Environment variables holding the credentials of Kafka and Event Hubs
// sources, which never go in a source's URL.
const (
	envKafkaUser        = "CALLDIAG_KAFKA_USER"
	envKafkaPassword    = "CALLDIAG_KAFKA_PASSWORD"
	envEventHubConnStr  = "CALLDIAG_EVENTHUB_CONNECTION_STRING"
	eventHubHostSuffix  = ".servicebus.windows.net"
	eventHubKafkaPort   = "9093"
	defaultKafkaPort    = "9092"
	defaultKafkaGroup   = "calldiag"
	defaultEventHubsCG  = "$Default"
	eventHubSASLUser    = "$ConnectionString"
	maxKafkaTopicLength = 249
)

// parseKafkaSource reads kafka://HOST:PORT[,HOST:PORT…]/TOPIC[?group=G&tls=1].
func parseKafkaSource(raw, rest string) (sourceSpec, error) {
	spec := sourceSpec{raw: raw, kind: "kafka"}
	bad := func(format string, args ...any) (sourceSpec, error) {
		return spec, &UsageError{Msg: fmt.Sprintf("source %q: ", raw) + fmt.Sprintf(format, args...)}
	}
	where, query, _ := strings.Cut(rest, "?")
	hostList, topic, _ := strings.Cut(where, "/")
	if strings.Contains(hostList, "@") {
		return bad("credentials do not go in the URL; set %s and %s", envKafkaUser, envKafkaPassword)
	}
	if hostList == "" {
		return bad("no broker; want kafka://HOST:PORT/TOPIC")
	}
	var brokers []string
	for _, h := range strings.Split(hostList, ",") {
		b, err := brokerAddr(h, defaultKafkaPort)
		if err != nil {
			return bad("%v", err)
		}
		brokers = append(brokers, b)
	}
	if err := checkTopic(topic); err != nil {
		return bad("%v", err)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return bad("%v", err)
	}
	group, useTLS := defaultKafkaGroup, false
	for key, vals := range q {
		v := vals[len(vals)-1]
		switch key {
		case "group":
			if v == "" {
				return bad("group is empty")
			}
			group = v
		case "tls":
			useTLS, err = strconv.ParseBool(v)
			if err != nil {
				return bad("tls=%s: want 1 or 0", v)
			}
		default:
			return bad("unknown parameter %s (group, tls)", key)
		}
	}
	spec.raw = "kafka://" + strings.Join(brokers, ",") + "/" + topic + "?group=" + queryValue(group)
	if useTLS {
		spec.raw += "&tls=1"
	}
	spec.build = func(d sourceDeps) (follower, error) {
		user, password := d.getenv(envKafkaUser), d.getenv(envKafkaPassword)
		if (user == "") != (password == "") {
			return nil, &UsageError{Msg: fmt.Sprintf("source %s: set both %s and %s for SASL PLAIN, or neither",
				spec.raw, envKafkaUser, envKafkaPassword)}
		}
		k := &source.Kafka{Brokers: brokers, Topic: topic, Group: group, User: user, Password: password,
			Name: spec.raw, Ingest: d.ingest, Status: d.status, Logger: d.log}
		if useTLS {
			k.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		return k, nil
	}
	return spec, nil
}

// parseEventHubSource reads eventhub://NAMESPACE/HUB[?consumerGroup=G]: the
// Event Hub's Kafka endpoint, NAMESPACE.servicebus.windows.net:9093, with
// TLS and the namespace's connection string.
func parseEventHubSource(raw, rest string) (sourceSpec, error) {
	spec := sourceSpec{raw: raw, kind: "eventhub"}
	bad := func(format string, args ...any) (sourceSpec, error) {
		return spec, &UsageError{Msg: fmt.Sprintf("source %q: ", raw) + fmt.Sprintf(format, args...)}
	}
	where, query, _ := strings.Cut(rest, "?")
	ns, hub, _ := strings.Cut(where, "/")
	switch {
	case strings.Contains(ns, "@"):
		return bad("credentials do not go in the URL; set %s", envEventHubConnStr)
	case ns == "":
		return bad("no namespace; want eventhub://NAMESPACE/HUB")
	case strings.ContainsAny(ns, ":,"):
		return bad("namespace %q: want a name or a host name without port", ns)
	}
	if err := checkTopic(hub); err != nil {
		return bad("%v", err)
	}
	host := ns
	if !strings.Contains(host, ".") {
		host += eventHubHostSuffix
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return bad("%v", err)
	}
	group := defaultEventHubsCG
	for key, vals := range q {
		v := vals[len(vals)-1]
		switch key {
		case "consumerGroup":
			if v == "" {
				return bad("consumerGroup is empty")
			}
			group = v
		default:
			return bad("unknown parameter %s (consumerGroup)", key)
		}
	}
	spec.raw = "eventhub://" + ns + "/" + hub + "?consumerGroup=" + queryValue(group)
	spec.build = func(d sourceDeps) (follower, error) {
		conn := strings.TrimSpace(d.getenv(envEventHubConnStr))
		if conn == "" {
			return nil, &UsageError{Msg: fmt.Sprintf("source %s: set %s to a connection string of the namespace (a shared access policy that may Listen)",
				spec.raw, envEventHubConnStr)}
		}
		if err := checkConnectionString(conn, hub); err != nil {
			return nil, &UsageError{Msg: fmt.Sprintf("source %s: %s: %v", spec.raw, envEventHubConnStr, err)}
		}
		return &source.Kafka{Brokers: []string{net.JoinHostPort(host, eventHubKafkaPort)}, Topic: hub, Group: group,
			TLS: &tls.Config{MinVersion: tls.VersionTLS12}, User: eventHubSASLUser, Password: conn,
			Name: spec.raw, Ingest: d.ingest, Status: d.status, Logger: d.log}, nil
	}
	return spec, nil
}

// queryValue escapes a query value, leaving '$' as it is ($Default reads
// better than %24Default).
func queryValue(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "%24", "$")
}

// brokerAddr checks a HOST[:PORT] and returns it with its port.
func brokerAddr(h, defaultPort string) (string, error) {
	if h == "" {
		return "", fmt.Errorf("empty broker in the list")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		// No port (or a bare IPv6 address).
		host, port = strings.Trim(h, "[]"), defaultPort
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("broker %q: port %q is not a number from 1 to 65535", h, port)
	}
	if host == "" || strings.ContainsAny(host, "/ ") {
		return "", fmt.Errorf("broker %q: want HOST:PORT", h)
	}
	return net.JoinHostPort(host, port), nil
}

// checkTopic checks a Kafka topic (or Event Hub) name.
func checkTopic(t string) error {
	if t == "" {
		return fmt.Errorf("no topic")
	}
	if len(t) > maxKafkaTopicLength {
		return fmt.Errorf("topic %q is longer than %d characters", t, maxKafkaTopicLength)
	}
	for _, c := range t {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("topic %q: only letters, digits, '.', '_' and '-' are allowed", t)
		}
	}
	return nil
}

// checkConnectionString checks that conn looks like an Event Hubs
// connection string and, when it names an Event Hub, that it is hub.
func checkConnectionString(conn, hub string) error {
	fields := map[string]string{}
	for part := range strings.SplitSeq(conn, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[strings.ToLower(k)] = v
		}
	}
	if !strings.HasPrefix(strings.ToLower(fields["endpoint"]), "sb://") || fields["sharedaccesskey"] == "" {
		return fmt.Errorf("not an Event Hubs connection string (want Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…)")
	}
	if e := fields["entitypath"]; e != "" && !strings.EqualFold(e, hub) {
		return fmt.Errorf("the connection string is for Event Hub %s, not %s", e, hub)
	}
	return nil
}
