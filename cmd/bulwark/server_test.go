package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/internal/testsync"
)

// startDemo runs `bulwark demo` with args on a free port and returns its
// address and a function that stops it and returns its stderr (the access
// log and audit events).
func startDemo(t *testing.T, args ...string) (addr string, stop func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &testsync.Buffer{}
	done := make(chan int, 1)
	go func() {
		code := run(ctx, append([]string{"demo", "--addr", "127.0.0.1:0"}, args...), nil, pw, stderr)
		pw.Close()
		done <- code
	}()
	urlRE := regexp.MustCompile(`listening on http://(127\.0\.0\.1:\d+)`)
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if addr == "" {
		cancel()
		t.Fatalf("no address printed; stderr: %s", stderr.String())
	}
	var once sync.Once
	stop = func() string {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("demo exited %d: %s", code, stderr.String())
				}
			case <-time.After(15 * time.Second):
				t.Error("demo did not shut down")
			}
		})
		return stderr.String()
	}
	t.Cleanup(func() { stop() })
	return addr, stop
}

// rawRequest writes request line and headers as they are over a new TCP
// connection and reads the response.
func rawRequest(t *testing.T, addr, requestLine string) *http.Response {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, requestLine+"\r\nHost: "+addr+"\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	method, _, _ := strings.Cut(requestLine, " ")
	res, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res
}

// TestServerOptionsAsterisk: `OPTIONS *` reaches the guards of the server
// the CLI builds — security headers, a request ID, an access-log line —
// and gets 200 with Allow, rather than net/http's bare answer that no
// guard sees.
func TestServerOptionsAsterisk(t *testing.T) {
	addr, stop := startDemo(t)
	res := rawRequest(t, addr, "OPTIONS * HTTP/1.1")
	rid := res.Header.Get("X-Request-ID")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Allow"), "GET") || !clientip.ValidRequestID(rid) {
		t.Fatalf("OPTIONS *: %d, headers %v", res.StatusCode, res.Header)
	}
	for name, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		"Content-Length":          "0",
	} {
		if got := res.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	// Any other method with the target "*" is a 400 problem, not a 500.
	bad := rawRequest(t, addr, "GET * HTTP/1.1")
	if bad.StatusCode != http.StatusBadRequest || bad.Header.Get("Content-Type") != "application/problem+json" || bad.Header.Get("X-Request-ID") == "" {
		t.Fatalf("GET *: %d, headers %v", bad.StatusCode, bad.Header)
	}

	logged := false
	for line := range strings.SplitSeq(stop(), "\n") {
		var l struct {
			Msg       string `json:"msg"`
			Method    string `json:"method"`
			Route     string `json:"route"`
			Status    int    `json:"status"`
			RequestID string `json:"request_id"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "request" {
			continue
		}
		if l.Method == "OPTIONS" && l.RequestID == rid {
			logged = true
			if l.Route != "OPTIONS *" || l.Status != 200 {
				t.Errorf("access log: %s", line)
			}
		}
	}
	if !logged {
		t.Error("no access-log line for OPTIONS *")
	}
}
