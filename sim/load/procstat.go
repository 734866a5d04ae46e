package load

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcStat is what the simulator process costs so far.
type ProcStat struct {
	RSS uint64        // resident memory, bytes
	CPU time.Duration // user + system CPU time
}

// ReadProcStat reads the process's resident memory (/proc/self/status,
// VmRSS; 0 where there is no /proc) and CPU time (getrusage).
func ReadProcStat() ProcStat {
	var ps ProcStat
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		ps.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	ps.RSS = ReadRSS(os.Getpid())
	return ps
}

// ReadRSS returns the resident memory of process pid from /proc, or 0.
func ReadRSS(pid int) uint64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// RaiseFileLimit raises the soft limit on open files to the hard limit: every
// station is a socket, and the default soft limit (often 1024) would stop a
// load run long before the machine's limits. It returns the new soft limit.
func RaiseFileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return rl.Cur, err
		}
	}
	return rl.Cur, nil
}

// liveBytes runs a garbage collection and returns the bytes of live heap
// objects plus goroutine stacks: the memory the process really needs, which
// RSS overstates by the garbage the runtime has not yet returned to the OS.
func liveBytes() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}
