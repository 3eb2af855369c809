//go:build bench

package e2e

// CPU accounting for the benchmarks: what each process of the stack spent per request, and how
// busy the rest of the machine was meanwhile. Only the stack's own PostgreSQL and Kafka count
// (found by the ports it reaches them at), so a second stack on the machine (a test or fault run,
// a replicated cluster) neither adds to the figures nor goes unseen: it shows as other load.

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	userHZ = 10 * time.Millisecond // /proc's clock ticks: USER_HZ = 100 on Linux
	// Keys of a cpuTime snapshot that are not parts of the stack.
	otherLoad = "other processes" // the machine's busy time not spent by the stack's processes
	wallClock = "wall clock"      // when the snapshot was taken, as time since the Unix epoch
)

// cpuTime is the CPU time (user + system) each part of stack s has used so far; "bench" is this
// test process (the pipeline's producer). It also holds otherLoad and wallClock.
func cpuTime(s *stack) map[string]time.Duration {
	pids := map[int]string{os.Getpid(): "bench"}
	for _, p := range s.processes {
		pids[p.cmd.Process.Pid] = p.name
	}
	servers := serversOf(s)
	out := map[string]time.Duration{wallClock: time.Duration(time.Now().UnixNano())}
	var counted time.Duration
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, ok := readStat(pid)
		if !ok {
			continue
		}
		name, ok := pids[pid]
		switch {
		case ok:
		case servers[pid] != "":
			name = servers[pid]
		case servers[st.ppid] == "PostgreSQL":
			name = "PostgreSQL" // a backend of the stack's postmaster
		}
		if name == "" {
			continue
		}
		out[name] += st.cpu
		counted += st.cpu
	}
	out[otherLoad] = machineBusy() - counted
	return out
}

// procStat is what cpuTime reads of a process: its parent and its CPU time so far.
type procStat struct {
	ppid int
	cpu  time.Duration
}

func readStat(pid int) (procStat, bool) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, false
	}
	s := string(data)
	// The command name, in parentheses, may hold spaces and parentheses itself.
	closing := strings.LastIndexByte(s, ')')
	if closing < 0 || closing+2 > len(s) {
		return procStat{}, false
	}
	fields := strings.Fields(s[closing+2:])
	if len(fields) < 13 {
		return procStat{}, false
	}
	ppid, _ := strconv.Atoi(fields[1])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return procStat{ppid: ppid, cpu: time.Duration(utime+stime) * userHZ}, true
}

// machineBusy is the CPU time all cores have spent on anything but idling and waiting for I/O.
func machineBusy() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var busy int64
	for i, f := range fields {
		if i == 0 || i == 4 || i == 5 || i > 8 { // the label, idle, iowait; guest time is in user
			continue
		}
		n, _ := strconv.ParseInt(f, 10, 64)
		busy += n
	}
	return time.Duration(busy) * userHZ
}

// serversOf is stackServers(s), looked up once per stack: the servers keep their pids for a
// benchmark's length, and finding them reads every process's open files.
func serversOf(s *stack) map[int]string {
	serversMu.Lock()
	defer serversMu.Unlock()
	servers, ok := serversByStack[s]
	if !ok {
		servers = stackServers(s)
		serversByStack[s] = servers
	}
	return servers
}

var (
	serversMu      sync.Mutex
	serversByStack = map[*stack]map[int]string{}
)

// stackServers names the pids listening on the ports of the stack's PostgreSQL (its postmaster)
// and Kafka brokers.
func stackServers(s *stack) map[int]string {
	ports := map[int]string{}
	if u, err := url.Parse(s.databaseURL); err == nil {
		if p, err := strconv.Atoi(u.Port()); err == nil {
			ports[p] = "PostgreSQL"
		}
	}
	for _, addr := range strings.Split(os.Getenv("MDS_TEST_KAFKA_BOOTSTRAP_SERVERS"), ",") {
		if i := strings.LastIndexByte(addr, ':'); i >= 0 {
			if p, err := strconv.Atoi(addr[i+1:]); err == nil {
				ports[p] = "Kafka"
			}
		}
	}
	inodes := map[string]string{} // "socket:[inode]" of a listening socket -> part
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" { // 0A: LISTEN
				continue
			}
			hexPort := f[1][strings.LastIndexByte(f[1], ':')+1:]
			port, err := strconv.ParseInt(hexPort, 16, 32)
			if err != nil {
				continue
			}
			if part, ok := ports[int(port)]; ok {
				inodes["socket:["+f[9]+"]"] = part
			}
		}
	}
	servers := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", e.Name(), "fd"))
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join("/proc", e.Name(), "fd", fd.Name()))
			if part, ok := inodes[target]; err == nil && ok {
				servers[pid] = part
				break
			}
		}
	}
	return servers
}

// cpuCost is the CPU time each part of the stack spent per request (or event), and how many
// cores the machine's other processes kept busy meanwhile.
type cpuCost struct {
	parts      []string
	per        map[string]time.Duration
	total      time.Duration
	otherCores float64
}

// costPer divides each part's CPU time between two cpuTime snapshots among n requests.
func costPer(before, after map[string]time.Duration, parts []string, n int) cpuCost {
	c := cpuCost{parts: parts, per: map[string]time.Duration{}}
	if n <= 0 {
		return c
	}
	for _, part := range parts {
		c.per[part] = (after[part] - before[part]) / time.Duration(n)
		c.total += c.per[part]
	}
	if wall := after[wallClock] - before[wallClock]; wall > 0 {
		c.otherCores = max(0, float64(after[otherLoad]-before[otherLoad])/float64(wall))
	}
	return c
}

func micros(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Nanoseconds())/1000) }

// String lists the cost by part, and the other processes' load when it was more than a tenth
// of a core (a figure measured on a busy machine says so).
func (c cpuCost) String() string {
	if c.total == 0 {
		return "not measured"
	}
	var cells []string
	for _, part := range c.parts {
		cells = append(cells, part+" "+micros(c.per[part]))
	}
	out := fmt.Sprintf("%s; total %s µs", strings.Join(cells, ", "), micros(c.total))
	if c.otherCores >= 0.1 {
		out += fmt.Sprintf(" (other processes kept %.1f cores busy)", c.otherCores)
	}
	return out
}

// ceiling is the rate at which the machine's cores would be fully busy at this cost.
func (c cpuCost) ceiling(unit string) string {
	if c.total == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f %s", float64(numCPU())*float64(time.Second)/float64(c.total), unit)
}

// withCPU runs load() and records each part's CPU time per request, in the order of `parts`
// ("client" is the load generator).
func withCPU(s *stack, parts []string, load func() loadResult) loadResult {
	before := cpuTime(s)
	r := load()
	after := cpuTime(s)
	after["client"] = before["client"] + r.clientCPU
	after[otherLoad] -= r.clientCPU // the load generator has exited: the machine counted it
	r.cpu = costPer(before, after, parts, r.requests)
	return r
}
