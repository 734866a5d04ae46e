package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// utime 250 and stime 150 ticks: 4 s. The command name has a space and
	// a ')' of its own, as a process may name itself.
	stat := "4242 (node peer) x) S 1 4242 4242 0 -1 4194560 7788 0 0 0 250 150 0 0 20 0 11 0 123 1153433600 19000 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 1 0 0 0 0 0\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil || got != 4*time.Second {
		t.Fatalf("parseStatCPU = %v, %v; want 4s", got, err)
	}
	for _, bad := range []string{"", "12 (x) S 1 2", "12 (x) S 1 2 3 4 5 6 7 8 9 10 x 11 12"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q) accepted", bad)
		}
	}
}

func TestParseStatusRSS(t *testing.T) {
	status := "Name:\tocpp-bench\nVmPeak:\t  900000 kB\nVmRSS:\t   12345 kB\nRssAnon:\t    9000 kB\n"
	got, err := parseStatusRSS([]byte(status))
	if err != nil || got != 12345*1024 {
		t.Fatalf("parseStatusRSS = %v, %v; want %d", got, err, 12345*1024)
	}
	if _, err := parseStatusRSS([]byte("Name:\tkthreadd\nState:\tS\n")); err == nil {
		t.Error("parseStatusRSS accepted a status without VmRSS")
	}
}

func TestReadProcSelf(t *testing.T) {
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSS < 1<<20 || s.CPU < 0 {
		t.Errorf("readProc(self) = %+v; want an RSS of at least 1 MiB", s)
	}
	if _, err := readProc(-1); err == nil {
		t.Error("readProc(-1) did not fail")
	}
}

func TestParseMachineBusy(t *testing.T) {
	stat := "cpu  100 5 50 900 30 1 4 10 7 0\ncpu0 50 0 25 450 15 0 2 5 0 0\n"
	got, err := parseMachineBusy([]byte(stat))
	if want := 170 * time.Second / userHZ; err != nil || got != want {
		t.Fatalf("parseMachineBusy = %v, %v; want %v", got, err, want)
	}
	if _, err := parseMachineBusy([]byte("intr 1 2 3\n")); err == nil {
		t.Error("parseMachineBusy accepted a file without the cpu line")
	}
}
