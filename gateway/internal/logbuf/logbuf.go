// Package logbuf batches log output: one write per interval instead of one per line. The gateway
// logs a line for every request, and a write system call per request was a measurable share of
// its CPU time at thousands of requests per second.
package logbuf

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Writer collects what is written to it and passes it on to the underlying writer every
// interval, as soon as maxBuffered bytes are waiting, or on Flush.
type Writer struct {
	out         io.Writer
	maxBuffered int

	mu  sync.Mutex
	buf []byte

	stop chan struct{}
	done chan struct{}
}

// New starts the periodic flushing; Close stops it and flushes what is left.
func New(out io.Writer, interval time.Duration, maxBuffered int) *Writer {
	w := &Writer{out: out, maxBuffered: maxBuffered, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = w.Flush()
			case <-w.stop:
				return
			}
		}
	}()
	return w
}

// Write buffers p; it never fails (a failing underlying writer is reported by Flush).
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) >= w.maxBuffered {
		_ = w.flushLocked()
	}
	return len(p), nil
}

// Flush writes out everything buffered so far.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.out.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}

// Close stops the periodic flushing and flushes what is left.
func (w *Writer) Close() error {
	close(w.stop)
	<-w.done
	return w.Flush()
}

// FlushAtLevel wraps a handler so that records at level or above reach the output at once
// (with everything logged before them), and only lower ones wait for the next flush.
func FlushAtLevel(h slog.Handler, w *Writer, level slog.Level) slog.Handler {
	return &flushingHandler{Handler: h, w: w, level: level}
}

type flushingHandler struct {
	slog.Handler
	w     *Writer
	level slog.Level
}

func (h *flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= h.level {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h *flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &flushingHandler{Handler: h.Handler.WithAttrs(attrs), w: h.w, level: h.level}
}

func (h *flushingHandler) WithGroup(name string) slog.Handler {
	return &flushingHandler{Handler: h.Handler.WithGroup(name), w: h.w, level: h.level}
}
