package api

import (
	"fmt"
	"strings"
)

// commandBodies says what each version-neutral command takes, for the
// OpenAPI document and docs/csms.md (a test keeps the three in step).
// Fields are JSON, snake_case; times are RFC 3339.
var commandBodies = map[string]string{
	"remote-start":           "`id_token` (required), `token_type` (2.0.1, default ISO14443), `evse`",
	"remote-stop":            "`transaction_id` (required; the CSMS's id, which must be the station's)",
	"reset":                  "`type`: `soft` (default; 2.0.1 OnIdle) or `hard` (2.0.1 Immediate); `evse` (2.0.1)",
	"change-availability":    "`available` (required, boolean), `evse` (0 or absent: the whole station; 1.6: the connector id), `connector` (2.0.1 only)",
	"unlock-connector":       "`evse` (required; 1.6: the connector id), `connector` (2.0.1 only, default 1)",
	"trigger-message":        "`message` (required, e.g. `Heartbeat`, `StatusNotification`, `MeterValues`; `DiagnosticsStatusNotification` and `LogStatusNotification` are the same on both versions), `evse` (1.6: the connector id), `connector` (2.0.1; a StatusNotification's defaults to 1)",
	"clear-cache":            "nothing",
	"data-transfer":          "`vendor_id` (required), `message_id`, `data` (any JSON; 1.6 sends it as a string)",
	"get-configuration":      "1.6: `keys` (absent: all)",
	"change-configuration":   "1.6: `key`, `value` (both required)",
	"get-variables":          "2.0.1: `variables`: [{`component`, `component_instance`, `evse`, `variable`, `variable_instance`, `attribute`}]",
	"set-variables":          "2.0.1: `variables`: [{… as get-variables, `value`}]",
	"set-charging-profile":   "`evse` (0: the station), `profile`: {`id`, `stack_level`, `purpose` (`tx-default`, `tx`, `station-max`), `kind`, `recurrency`, `valid_from`, `valid_to`, `transaction_id` (purpose `tx`), `schedule`: {`unit` W or A, `start`, `duration`, `min_rate`, `periods`: [{`start` s, `limit`, `phases`}]}}",
	"clear-charging-profile": "`id`, or any of `evse`, `purpose`, `stack_level` (none: every profile)",
	"get-composite-schedule": "`evse`, `duration` (seconds, required), `unit` (W or A; absent: the station's choice)",
	"reserve-now":            "`reservation_id`, `id_token`, `expires_at` (required), `evse`",
	"cancel-reservation":     "`reservation_id` (required)",
	"update-firmware":        "`location` (URL, required), `retrieve_at` (default now), `retries`",
	"get-log":                "`location` (upload URL, required), `from`, `to`, `security` (2.0.1: the security log; 1.6: GetDiagnostics)",
	"send-local-list":        "`version` (≥ 1, required), `update` (`Full` default, or `Differential`), `tokens` (registered ids allowed at the station, sent with their stored status, expiry and group), `all`: true for every token allowed at the station, `remove` (ids to take off the list; Differential only)",
	"get-local-list-version": "nothing",
}

// commandBodiesMarkdown is the table of commandBodies, as docs/csms.md
// holds it.
func commandBodiesMarkdown() string {
	var b strings.Builder
	b.WriteString("| command | body |\n|---|---|\n")
	for _, name := range CommandNames() {
		fmt.Fprintf(&b, "| `%s` | %s |\n", name, commandBodies[name])
	}
	return b.String()
}
