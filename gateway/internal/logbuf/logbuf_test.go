package logbuf

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the flusher goroutine and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLinesWaitForTheIntervalThenAppearInOrder(t *testing.T) {
	var out syncBuffer
	w := New(&out, 20*time.Millisecond, 1<<20)
	defer w.Close()
	_, _ = w.Write([]byte("one\n"))
	_, _ = w.Write([]byte("two\n"))
	if got := out.String(); got != "" {
		t.Fatalf("written before the interval: %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for out.String() == "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := out.String(); got != "one\ntwo\n" {
		t.Fatalf("got %q", got)
	}
}

func TestAFullBufferIsWrittenAtOnce(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Hour, 10)
	defer w.Close()
	_, _ = w.Write([]byte("0123456789\n"))
	if got := out.String(); got != "0123456789\n" {
		t.Fatalf("got %q", got)
	}
}

func TestCloseFlushesWhatIsLeft(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Hour, 1<<20)
	_, _ = w.Write([]byte("last words\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "last words\n" {
		t.Fatalf("got %q", got)
	}
}

func TestWarningsAreWrittenAtOnceWithWhatCameBefore(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Hour, 1<<20)
	defer w.Close()
	logger := slog.New(FlushAtLevel(slog.NewTextHandler(w, nil), w, slog.LevelWarn)).With("component", "test")
	logger.Info("request")
	if out.String() != "" {
		t.Fatalf("info written at once: %q", out.String())
	}
	logger.Warn("backend down")
	got := out.String()
	if !strings.Contains(got, "msg=request") || !strings.Contains(got, "msg=\"backend down\"") ||
		!strings.Contains(got, "component=test") {
		t.Fatalf("got %q", got)
	}
}
