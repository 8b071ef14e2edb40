package testredis

import (
	"bufio"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is a redis-server process a test owns, so that it can kill,
// freeze and restart it. It is not safe for concurrent use.
type Server struct {
	t    testing.TB
	bin  string
	port int
	args []string
	cmd  *exec.Cmd
}

// NewServer returns a Server on a free port, not yet started; extra args go
// to redis-server (e.g. "--requirepass", "..."). The port is below the
// kernel's ephemeral range, so that no outbound connection can take it
// while the server is down between a Stop and a Start. It fails the test
// in CI, and skips it elsewhere, when there is no redis-server binary. The
// process is killed at cleanup.
func NewServer(t testing.TB, args ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server is required in CI: %v", err)
		}
		t.Skipf("no redis-server binary: %v", err)
	}
	s := &Server{t: t, bin: bin, port: freePort(t, slices.Contains(args, "--cluster-enabled")), args: args}
	t.Cleanup(s.Stop)
	return s
}

// StartServer is NewServer followed by Start.
func StartServer(t testing.TB, args ...string) *Server {
	t.Helper()
	s := NewServer(t, args...)
	s.Start()
	return s
}

// freePort picks a port that nothing listens on, below the ephemeral
// range; with bus, port+10000 too (a Cluster node's bus port).
func freePort(t testing.TB, bus bool) int {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 21000 { // else the default: room for bus ports below it
				low = n
			}
		}
	}
	free := func(port int) bool {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			return false
		}
		l.Close()
		return true
	}
	high := low
	if bus {
		high = low - 10000
	}
	for range 100 {
		port := 10000 + rand.IntN(high-10000)
		if free(port) && (!bus || free(port+10000)) {
			return port
		}
	}
	t.Fatal("testredis: no free port below the ephemeral range")
	return 0
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://127.0.0.1:" + strconv.Itoa(s.port) + "/0" }

// Running reports whether the process was started and not stopped.
func (s *Server) Running() bool { return s.cmd != nil }

// Start runs the server and returns once it accepts connections. Readiness
// is read from the process's own log, so the server that answers is this
// one (not another process that took the port).
func (s *Server) Start() {
	s.t.Helper()
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no"}, s.args...)
	cmd := exec.Command(s.bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // one log: startup errors go to stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	type outcome struct {
		ok  bool
		log string
	}
	ready := make(chan outcome, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var log []string
		sent := false
		for sc.Scan() { // to the end, so the process never blocks on its log
			switch {
			case sent:
			case strings.Contains(sc.Text(), "Ready to accept connections"):
				ready <- outcome{ok: true}
				sent = true
			case len(log) < 20:
				log = append(log, sc.Text())
			}
		}
		if !sent {
			ready <- outcome{log: strings.Join(log, "\n")}
		}
	}()
	select {
	case o := <-ready:
		if !o.ok {
			_ = cmd.Wait()
			s.t.Fatalf("redis-server on port %d exited before it was ready:\n%s", s.port, o.log)
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		s.t.Fatalf("redis-server on port %d did not start in 10s", s.port)
	}
	s.cmd = cmd
}

// Signal sends sig to the process (SIGSTOP freezes it with its connections
// open; SIGCONT resumes it).
func (s *Server) Signal(sig os.Signal) {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatal("testredis: Signal on a server that is not running")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
}

// Stop kills the process and waits for it to exit. It does nothing when
// the server is not running.
func (s *Server) Stop() {
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}
