package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/openev/openev/ocpi"
	"github.com/spf13/cobra"
)

// ocpiListProgressEvery is how often a long list reports its progress on
// stderr.
const ocpiListProgressEvery = time.Second

// ocpiListFlags are the flags of `openev ocpi list`.
type ocpiListFlags struct {
	target           ocpiTargetFlags
	dateFrom, dateTo string
	limit, max       int
}

// errOCPIMaxReached stops a list at --max; it is not a failure.
var errOCPIMaxReached = errors.New("--max objects reached")

func newOCPIListCmd(f *ocpiFlags, stdout, stderr io.Writer) *cobra.Command {
	var lf ocpiListFlags
	cmd := &cobra.Command{
		Use:   "list <url> | list --versions-url U --module M [--role R] [path segment...]",
		Short: "Fetch a paginated list, following every next page",
		Long: `Fetch a paginated list (GET on a Sender endpoint), following the Link
headers page after page. Human output is one line per object (its id,
last_updated and a few fields such as a location's name and address); --json
prints one JSON array. Progress goes to stderr: objects fetched against
X-Total-Count.`,
		Example: `  openev ocpi list https://peer.example.com/ocpi/2.2.1/locations --date-from 2026-01-01T00:00:00Z
  openev ocpi list --versions-url https://peer.example.com/ocpi/versions --module locations --max 10 --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOCPIList(cmd.Context(), f, &lf, args, stdout, stderr)
		},
	}
	lf.target.add(cmd)
	fl := cmd.Flags()
	fl.StringVar(&lf.dateFrom, "date-from", "", "only objects with last_updated at or after this OCPI DateTime, e.g. 2026-01-01T00:00:00Z")
	fl.StringVar(&lf.dateTo, "date-to", "", "only objects with last_updated before this OCPI DateTime")
	fl.IntVar(&lf.limit, "limit", 0, "page size to ask for (the peer may give fewer; 0: the peer's default)")
	fl.IntVar(&lf.max, "max", 0, "stop after this many objects (0: all)")
	return cmd
}

func runOCPIList(ctx context.Context, f *ocpiFlags, lf *ocpiListFlags, args []string, stdout, stderr io.Writer) error {
	var q ocpi.ListQuery
	for _, d := range []struct {
		flag, value string
		into        *time.Time
	}{{"--date-from", lf.dateFrom, &q.From}, {"--date-to", lf.dateTo, &q.To}} {
		if strings.TrimSpace(d.value) == "" {
			continue
		}
		t, err := ocpi.ParseDateTime(strings.TrimSpace(d.value))
		if err != nil {
			return usageErr("ocpi: %s: %v", d.flag, err)
		}
		*d.into = t.Time
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return usageErr("ocpi: --date-from %s is not before --date-to %s: the list would be empty", lf.dateFrom, lf.dateTo)
	}
	if lf.limit < 0 || lf.max < 0 {
		return usageErr("ocpi: --limit and --max must not be negative")
	}
	q.Limit = lf.limit

	ctx, s, err := newOCPISession(ctx, f, stdout, stderr)
	if err != nil {
		return err
	}
	tg, err := s.resolve(ctx, &lf.target, args)
	if err != nil {
		return err
	}

	s.trace.pages, s.trace.total = 0, -1
	n, seenPages := 0, 0
	lastReport := time.Now()
	var out bytes.Buffer
	each := func(obj json.RawMessage) error {
		out.Reset()
		if f.json {
			if n == 0 {
				out.WriteString("[\n")
			} else {
				out.WriteString(",\n")
			}
			out.Write(ocpiCompactJSON(obj))
		} else {
			out.WriteString(ocpiObjectLine(obj))
			out.WriteByte('\n')
		}
		if _, err := stdout.Write(out.Bytes()); err != nil {
			return err
		}
		n++
		if s.trace.pages != seenPages {
			seenPages = s.trace.pages
			if time.Since(lastReport) >= ocpiListProgressEvery {
				lastReport = time.Now()
				fmt.Fprintf(stderr, "list: %d objects fetched of %s\n", n, ocpiTotalText(s.trace.total))
			}
		}
		if lf.max > 0 && n >= lf.max {
			return errOCPIMaxReached
		}
		return nil
	}
	err = s.client.List(ctx, tg.url, q, each, ocpi.ForModule(tg.module))
	stopped := errors.Is(err, errOCPIMaxReached)
	if err != nil && !stopped {
		// A --json array is left unclosed: a partial list must not parse
		// as a whole one.
		return s.failed("list "+ocpiRedacted(tg.url), err)
	}
	if f.json {
		closing := "\n]\n"
		if n == 0 {
			closing = "[]\n"
		}
		if _, err := io.WriteString(stdout, closing); err != nil {
			return err
		}
	}
	switch {
	case stopped:
		fmt.Fprintf(stderr, "list: stopped after --max %d objects (X-Total-Count %s)\n", lf.max, ocpiTotalText(s.trace.total))
	case s.trace.pages > 1 || n == 0:
		fmt.Fprintf(stderr, "list: %d objects in %d pages (X-Total-Count %s)\n", n, s.trace.pages, ocpiTotalText(s.trace.total))
	}
	return nil
}

func ocpiTotalText(total int) string {
	if total < 0 {
		return "not sent"
	}
	return fmt.Sprint(total)
}

// ocpiObjectLine is the human summary of one listed object: its id (uid for
// tokens), last_updated, owner and the fields that tell objects of the
// usual modules apart. An object that is not a JSON object is printed as
// it is.
func ocpiObjectLine(raw json.RawMessage) string {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return strings.TrimSpace(string(raw))
	}
	str := func(k string) string {
		switch v := m[k].(type) {
		case string:
			return v
		case float64, bool:
			return fmt.Sprint(v)
		}
		return ""
	}
	id := str("id")
	if id == "" {
		id = str("uid")
	}
	if id == "" {
		id = "(no id)"
	}
	parts := []string{id}
	if lu := str("last_updated"); lu != "" {
		parts = append(parts, lu)
	} else {
		parts = append(parts, "(no last_updated)")
	}
	if cc, pid := str("country_code"), str("party_id"); cc != "" || pid != "" {
		parts = append(parts, "party="+cc+"-"+pid)
	}
	if v := str("name"); v != "" {
		parts = append(parts, fmt.Sprintf("name=%q", v))
	}
	var addr []string
	for _, k := range []string{"address", "postal_code", "city", "country"} {
		if v := str(k); v != "" {
			addr = append(addr, v)
		}
	}
	if len(addr) > 0 {
		parts = append(parts, fmt.Sprintf("address=%q", strings.Join(addr, ", ")))
	}
	if evses, ok := m["evses"].([]any); ok {
		parts = append(parts, fmt.Sprintf("evses=%d", len(evses)))
	}
	for _, k := range []string{"status", "type", "contract_id", "valid", "kwh", "total_energy", "currency"} {
		if v := str(k); v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, "  ")
}

// ocpiCompactJSON is raw without insignificant space, or raw itself when it
// is not JSON.
func ocpiCompactJSON(raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}
